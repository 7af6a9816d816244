//! Flash and static RAM of a firmware ELF, by cortex-m-rt's sections.

use object::{Object, ObjectSection};

/// Section sizes of one image, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// Flash: `.vector_table`, `.text`, `.rodata` and the `.data` image.
    pub flash: u64,
    /// Static RAM: `.data`, `.bss` and `.uninit`.
    pub static_ram: u64,
}

/// Reads the section sizes of an ELF image.
pub fn sections(elf: &[u8]) -> Result<Sections, object::Error> {
    let file = object::File::parse(elf)?;
    let size = |name| file.section_by_name(name).map_or(0, |s| s.size());
    Ok(Sections {
        flash: size(".vector_table") + size(".text") + size(".rodata") + size(".data"),
        static_ram: size(".data") + size(".bss") + size(".uninit"),
    })
}
