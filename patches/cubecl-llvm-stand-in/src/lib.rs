//! Stand-in for `cubecl-llvm` 0.11.3, used so `host-trainer --features cuda` builds offline.
//!
//! # Why it exists
//!
//! `burn-cuda` 0.22.1 pulls in `cubecl-cuda` 0.11.3, which always depends on `cubecl-llvm`
//! (the dependency is not optional). `cubecl-llvm`'s build script runs
//! `tracel-llvm-bundler`, which downloads a prebuilt LLVM 23 from GitHub. Our build machines
//! have no network, so that build script fails.
//!
//! `cubecl-cuda` has two kernel compilers. The `cpp` feature makes the CUDA C++ one the
//! default: it turns the kernel into CUDA C++ and gives it to NVRTC at run time. The other
//! one, pliron → LLVM → PTX, is the only thing `cubecl-cuda` needs this crate for. We build
//! with `cpp` on, so the LLVM compiler never runs. This crate, swapped in through
//! `[patch.crates-io]`, gives `cubecl-cuda` the items it names so it compiles. There is no
//! LLVM behind them: [`PlironCompiler::compile`] always returns [`NO_LLVM`] as an error.
//!
//! Nothing here is copied from `cubecl-llvm`. It is written from the signatures `cubecl-cuda`
//! 0.11.3 uses (`src/compiler.rs`, `src/runtime.rs`, `src/compute/context.rs`), namely:
//!
//! - [`PlironCompiler`] with its one public field `target`, implementing [`Compiler`];
//! - [`LlvmTarget::Nvptx`];
//! - [`PlironOptions`] with `arch`, `sm_arch`, `ptx_version`, `grid_constants` and
//!   `Default`;
//! - [`PlironArtifact::NvptxCode`] holding an [`NvptxModule`] (`ptx`, `ir`,
//!   `shared_memory_size`, `io`);
//! - [`nvptx::ptx_version::PtxVersion`] (`for_driver`, `Display`);
//! - [`shared::lowered_features::GpuTarget`] and
//!   [`shared::lowered_features::restrict_features`].
//!
//! `cubecl-cpu` and `cubecl-hip` use other items (the CPU JIT engine, the AMDGPU module).
//! They are not here, so those two crates do not compile against this stand-in. Our build
//! never compiles them: `host-trainer` enables neither `burn/cpu` nor `burn/rocm`.
//!
//! # Version pin
//!
//! Made for the cubecl 0.11.3 family (`cubecl-cuda`, `cubecl-core`, `cubecl-runtime`), the
//! versions in the workspace `Cargo.lock`. The version here, 0.11.3, must match the version
//! `cubecl-cuda` asks for, or cargo ignores the patch. If cubecl is bumped, read the new
//! `cubecl-cuda`'s `use cubecl_llvm::...` lines again.
//!
//! # When it can go
//!
//! Delete it, and its `[patch.crates-io]` entry, once one of these is true:
//!
//! - `cubecl-cuda` makes `cubecl-llvm` optional, behind a feature we can leave off;
//! - the LLVM bundle can be provided to `tracel-llvm-bundler` without a network;
//! - `host-trainer` stops using the CUDA backend.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;

use cubecl_core::environment::backtrace::BackTrace;
use cubecl_core::ir::amd::GfxArch;
use cubecl_core::ir::attributes::BufferIOAttr;
use cubecl_core::ir::nvidia::SmArch;
use cubecl_core::prelude::KernelDefinition;
use cubecl_core::{CompilationError, Compiler};

/// The reason given by every kernel compile that reaches this crate.
pub const NO_LLVM: &str = "this build has no LLVM/NVPTX compiler (cubecl-llvm stand-in); \
     cubecl-cuda uses NVRTC (cpp feature)";

/// The error every entry point returns: a [`CompilationError::Generic`] carrying [`NO_LLVM`].
fn no_llvm() -> CompilationError {
    CompilationError::Generic {
        reason: NO_LLVM.to_string(),
        backtrace: BackTrace::capture(),
    }
}

/// Which machine code the LLVM compiler would have produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LlvmTarget {
    /// Host code. Only the default, so [`PlironCompiler`] can derive `Default`.
    #[default]
    Cpu,
    /// PTX for NVIDIA GPUs. This is the target `cubecl-cuda` asks for.
    Nvptx,
}

/// The LLVM kernel compiler `cubecl-cuda` holds in `CudaCompiler::Llvm`. Every call to
/// [`Compiler::compile`] fails with [`NO_LLVM`].
///
/// `cubecl-cuda` builds it with a struct literal (`PlironCompiler { target: .. }`), so
/// `target` must stay its only field.
#[derive(Clone, Debug, Default)]
pub struct PlironCompiler {
    /// The target the kernel would be compiled for.
    pub target: LlvmTarget,
}

/// Options for [`PlironCompiler`]. `cubecl-cuda` fills in the fields below and takes the
/// rest from `..Default::default()`, so every field must stay public. The real crate's CPU
/// options are left out.
#[derive(Clone, Debug, Default)]
pub struct PlironOptions {
    /// AMDGPU architecture. `cubecl-cuda` sets it to `None`.
    pub arch: Option<GfxArch>,
    /// The NVIDIA architecture the runtime found.
    pub sm_arch: Option<SmArch>,
    /// The PTX version to emit. Always `None`, see [`nvptx::ptx_version::PtxVersion`].
    pub ptx_version: Option<nvptx::ptx_version::PtxVersion>,
    /// Whether scalars go in the kernel parameter block. Read from the C++ backend's setting.
    pub grid_constants: bool,
}

/// A PTX module the LLVM compiler would have produced. The shape is what `cubecl-cuda`
/// reads. This stand-in never builds one.
#[derive(Clone, Debug)]
pub struct NvptxModule {
    /// NUL-terminated PTX text, the form `cuModuleLoadData` takes.
    pub ptx: Vec<core::ffi::c_char>,
    /// The name of the kernel's entry point.
    pub entrypoint: String,
    /// The LLVM IR, for logs.
    pub ir: String,
    /// The dynamic shared memory a launch must reserve, in bytes.
    pub shared_memory_size: usize,
    /// How the kernel uses each buffer binding (read, written, both, neither).
    pub io: Vec<BufferIOAttr>,
}

/// What [`PlironCompiler`] returns from a successful compile. The stand-in never returns
/// one.
///
/// Marked `#[non_exhaustive]` because `cubecl-cuda` matches it with a catch-all
/// `_ => unreachable!()` arm. With the attribute, that arm is needed rather than an
/// unreachable pattern.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PlironArtifact {
    /// A PTX module for the CUDA driver.
    NvptxCode(NvptxModule),
}

impl fmt::Display for PlironArtifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PlironArtifact::NvptxCode(ref module) => f.write_str(&module.ir),
        }
    }
}

impl Compiler for PlironCompiler {
    type Representation = PlironArtifact;
    type CompilationOptions = PlironOptions;

    /// Always fails with [`NO_LLVM`]: this build contains no LLVM.
    fn compile(
        &mut self,
        _kernel: KernelDefinition,
        _compilation_options: &Self::CompilationOptions,
    ) -> Result<Self::Representation, CompilationError> {
        Err(no_llvm())
    }

    fn buffer_io(repr: &Self::Representation) -> Option<Vec<BufferIOAttr>> {
        match *repr {
            PlironArtifact::NvptxCode(ref module) => Some(module.io.clone()),
        }
    }

    fn extension(&self) -> &'static str {
        match self.target {
            LlvmTarget::Cpu => "plir",
            LlvmTarget::Nvptx => "ll",
        }
    }

    fn lang_tag(&self) -> &'static str {
        match self.target {
            LlvmTarget::Cpu => "mlir",
            LlvmTarget::Nvptx => "llvm",
        }
    }
}

/// NVPTX-specific items (`cubecl_llvm::nvptx::...`).
pub mod nvptx {
    /// `cubecl_llvm::nvptx::ptx_version`.
    pub mod ptx_version {
        use core::fmt;

        /// A PTX ISA version. `cubecl-cuda` stores it in its compile options and uses it in the
        /// name of its LLVM kernel cache. The stand-in never creates one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct PtxVersion(u32);

        impl PtxVersion {
            /// The newest PTX version a driver loads. `driver` is the number
            /// `cuDriverGetVersion` returns (12.8 is `12080`).
            ///
            /// Always `None`: no LLVM compiler emits PTX here, and the C++ backend
            /// (`cpp` feature) does not read it. `None` is also what the real crate returns
            /// for drivers older than CUDA 10.
            pub fn for_driver(_driver: i32) -> Option<Self> {
                None
            }
        }

        impl fmt::Display for PtxVersion {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "ptx{}", self.0)
            }
        }
    }
}

/// Items shared by the GPU targets (`cubecl_llvm::shared::...`).
pub mod shared {
    /// `cubecl_llvm::shared::lowered_features`.
    pub mod lowered_features {
        use cubecl_core::ir::DeviceProperties;

        /// The GPU target whose lowering the device properties are narrowed to.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum GpuTarget {
            /// NVIDIA PTX.
            Nvptx,
        }

        /// Does nothing. `cubecl-cuda` calls it only when the LLVM backend is the default,
        /// which means the `cpp` feature is off. In that case every compile already fails
        /// with [`NO_LLVM`](crate::NO_LLVM), so there is nothing to narrow.
        pub fn restrict_features(_props: &mut DeviceProperties, _target: GpuTarget) {}
    }
}
