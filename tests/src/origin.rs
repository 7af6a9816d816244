//! Which source each byte of code came from, by the DWARF line table: an
//! instruction inlined from cert-runtime counts as cert-runtime's wherever
//! it was inlined, which symbol sizes cannot tell under LTO.

use std::collections::BTreeMap;

use addr2line::gimli::{self, EndianSlice, LittleEndian};
use object::{Object, ObjectSection};

/// Crates cert-runtime brings along (its dependencies, transitively).
const RUNTIME_DEPS: &[&str] = &[
    "postcard",
    "serde",
    "serde_core",
    "heapless",
    "hash32",
    "micromath",
    "crc",
    "crc-catalog",
    "cobs",
];

/// The runtime's source directories (cert-kernels is part of it).
const RUNTIME_SOURCES: [&str; 2] = ["cert-runtime/src/", "cert-kernels/src/"];

/// Where code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// `cert-runtime/src` and `cert-kernels/src`, test-vector decoding aside.
    Runtime,
    /// `cert-runtime/src/vectors/`: only test firmware decodes vectors.
    Vectors,
    /// The runtime's dependencies (postcard, serde, heapless, micromath, crc).
    RuntimeDeps,
    /// `boards/`: the application and the board glue.
    Firmware,
    /// Other crates: cortex-m, defmt, semihosting.
    Platform,
    /// Rust's `core` and `compiler_builtins`.
    Core,
    /// Code without line information.
    Unknown,
}

impl Origin {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Runtime => "cert-runtime",
            Origin::Vectors => "cert-runtime test-vector decoding",
            Origin::RuntimeDeps => "runtime deps (postcard, serde, heapless, micromath, crc)",
            Origin::Firmware => "board and app (boards/)",
            Origin::Platform => "platform (cortex-m, defmt, semihosting)",
            Origin::Core => "core, compiler_builtins",
            Origin::Unknown => "no line info",
        }
    }

    /// Classifies a source path.
    fn of(path: &str) -> Origin {
        if path.contains("cert-runtime/src/vectors/") {
            return Origin::Vectors;
        }
        if RUNTIME_SOURCES.iter().any(|root| path.contains(root)) {
            return Origin::Runtime;
        }
        if path.contains("/boards/") {
            return Origin::Firmware;
        }
        if let Some((_, rest)) = path.split_once("/registry/src/") {
            // `<index>/<crate>-<version>/...`
            let dir = rest.split('/').nth(1).unwrap_or_default();
            let krate = dir.rsplit_once('-').map_or(dir, |(name, _)| name);
            return match krate {
                k if RUNTIME_DEPS.contains(&k) => Origin::RuntimeDeps,
                "compiler_builtins" => Origin::Core,
                _ => Origin::Platform,
            };
        }
        if path.contains("library/") {
            return Origin::Core;
        }
        Origin::Unknown
    }
}

type Reader<'a> = EndianSlice<'a, LittleEndian>;
type Context<'a> = addr2line::Context<Reader<'a>>;

/// Bytes of `.text` per origin. Code inlined from `core` (iterators, slice
/// helpers) counts for the innermost caller outside `core`; what the line
/// table does not cover counts as [`Origin::Unknown`].
pub fn code_by_origin(elf: &[u8]) -> Result<BTreeMap<Origin, u64>, gimli::Error> {
    let mut bytes = BTreeMap::new();
    let text = for_each_range(elf, |_, origin, len| {
        *bytes.entry(origin).or_insert(0) += len;
    })?;
    let covered: u64 = bytes.values().sum();
    *bytes.entry(Origin::Unknown).or_insert(0) += text.saturating_sub(covered);
    Ok(bytes)
}

/// Bytes of the runtime's `.text` ([`Origin::Runtime`]) per source file,
/// keyed by the path from the crate's directory on
/// (`cert-runtime/src/layer/conv.rs`), attributed like [`code_by_origin`]:
/// where flash goes inside the runtime.
pub fn runtime_code_by_file(elf: &[u8]) -> Result<BTreeMap<String, u64>, gimli::Error> {
    let mut bytes = BTreeMap::new();
    for_each_range(elf, |file, origin, len| {
        if origin == Origin::Runtime {
            *bytes.entry(runtime_file(file).to_string()).or_insert(0) += len;
        }
    })?;
    Ok(bytes)
}

/// A runtime source path from its crate's directory on
/// (`cert-kernels/src/dsp/asm.rs`), or the whole path if it is not one.
fn runtime_file(path: &str) -> &str {
    RUNTIME_SOURCES
        .iter()
        .find_map(|root| path.find(root).map(|at| &path[at..]))
        .unwrap_or(path)
}

/// Calls `each(file, origin, bytes)` for every range of `.text` the line
/// table covers, with the source file and origin of its innermost frame
/// outside `core`; returns the size of `.text` (0 without one).
fn for_each_range(
    elf: &[u8],
    mut each: impl FnMut(&str, Origin, u64),
) -> Result<u64, gimli::Error> {
    let file = object::File::parse(elf).map_err(|_| gimli::Error::Io)?;
    let (start, end) = file
        .section_by_name(".text")
        .map_or((0, 0), |s| (s.address(), s.address() + s.size()));
    let dwarf = gimli::Dwarf::load(|id| -> Result<Reader<'_>, gimli::Error> {
        let data = file
            .section_by_name(id.name())
            .and_then(|s| s.data().ok())
            .unwrap_or(&[]);
        Ok(EndianSlice::new(data, LittleEndian))
    })?;
    let context = Context::from_dwarf(dwarf)?;
    for (address, len, _) in context.find_location_range(start, end)? {
        let (source, origin) = source_at(&context, address)?;
        each(source, origin, len);
    }
    Ok(end - start)
}

/// The source file and origin of the innermost frame at `address` that is
/// not `core` (or of the innermost frame where all are).
fn source_at<'c>(
    context: &'c Context<'_>,
    address: u64,
) -> Result<(&'c str, Origin), gimli::Error> {
    let mut frames = context.find_frames(address).skip_all_loads()?;
    let mut innermost = None;
    while let Some(frame) = frames.next()? {
        let file = frame.location.and_then(|l| l.file).unwrap_or_default();
        let origin = Origin::of(file);
        if !matches!(origin, Origin::Core | Origin::Unknown) {
            return Ok((file, origin));
        }
        innermost.get_or_insert((file, origin));
    }
    Ok(innermost.unwrap_or(("", Origin::Unknown)))
}

#[cfg(test)]
mod tests {
    use super::{Origin, runtime_file};

    #[test]
    fn runtime_files_are_named_from_their_crate_on() {
        assert_eq!(
            runtime_file("/work/main/cert-kernels/src/dsp/asm.rs"),
            "cert-kernels/src/dsp/asm.rs"
        );
        assert_eq!(
            runtime_file("/tmp/x/cert-runtime/src/layer/conv.rs"),
            "cert-runtime/src/layer/conv.rs"
        );
        assert_eq!(runtime_file("other.rs"), "other.rs");
    }

    #[test]
    fn paths_are_classified() {
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        for (path, origin) in [
            (
                "/work/main/cert-runtime/src/layer/dense.rs",
                Origin::Runtime,
            ),
            ("/work/main/cert-kernels/src/dsp/asm.rs", Origin::Runtime),
            (
                "/work/main/cert-runtime/src/vectors/mod.rs",
                Origin::Vectors,
            ),
            ("/work/main/boards/mps2-an386/src/main.rs", Origin::Firmware),
            ("/work/main/boards/cert-app/src/check.rs", Origin::Firmware),
            (
                &format!("{registry}/postcard-1.2.0/src/de/mod.rs"),
                Origin::RuntimeDeps,
            ),
            (
                &format!("{registry}/crc-catalog-2.4.0/src/lib.rs"),
                Origin::RuntimeDeps,
            ),
            (
                &format!("{registry}/defmt-1.2.0/src/lib.rs"),
                Origin::Platform,
            ),
            (
                &format!("{registry}/compiler_builtins-0.1.160/src/mem.rs"),
                Origin::Core,
            ),
            (
                "/rustc/59807616e/library/core/src/slice/iter.rs",
                Origin::Core,
            ),
            ("", Origin::Unknown),
        ] {
            assert_eq!(Origin::of(path), origin, "{path}");
        }
    }
}
