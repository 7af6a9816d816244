//! Where a model description keeps its bytes: borrowed from the file
//! ([`Flash`], on the device and whenever a file is read) or owned
//! ([`Owned`], on the host while an exporter builds one). One description,
//! two storages: the wire encoding of both is the same, byte for byte.

use core::fmt::Debug;

use serde::Serialize;

/// The two kinds of arrays a description holds: byte strings (int8
/// weights, and multi-byte values as little-endian bytes) and text.
pub trait Storage: Debug + Clone + PartialEq {
    /// A byte string.
    type Bytes<'a>: AsRef<[u8]> + Debug + Clone + PartialEq + Serialize;
    /// UTF-8 text.
    type Text<'a>: AsRef<str> + Debug + Clone + PartialEq + Serialize;
}

/// Borrowed from the model file's bytes (flash on a device): no copy, no
/// alignment needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flash;

impl Storage for Flash {
    type Bytes<'a> = &'a [u8];
    type Text<'a> = &'a str;
}

/// Owned by the description (the host, `std` feature).
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owned;

#[cfg(feature = "std")]
impl Storage for Owned {
    type Bytes<'a> = std::vec::Vec<u8>;
    type Text<'a> = std::string::String;
}

#[cfg(feature = "std")]
extern crate std;
