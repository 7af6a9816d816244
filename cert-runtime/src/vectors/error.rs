//! Why a test-vector file could not be made, read or used.

use core::fmt;

use crate::error::{ContainerError, Error};

/// Why a test-vector file could not be made, read or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VectorError {
    /// The framing is wrong (not a test-vector file, another version,
    /// truncated, corrupt).
    Container(ContainerError),
    /// The payload is not a valid encoding (a case count or input length
    /// that does not add up, bytes left over).
    Malformed,
    /// The vectors were made for another model.
    WrongModel {
        /// Model CRC recorded in the vectors.
        vectors: u32,
        /// CRC of the model at hand.
        model: u32,
    },
    /// An input has the wrong number of values for the model or buffer.
    InputLength {
        /// Values needed.
        expected: usize,
        /// Values present.
        got: usize,
    },
    /// Labels were given, but not one per input.
    LabelCount {
        /// Number of inputs.
        inputs: usize,
        /// Number of labels.
        labels: usize,
    },
    /// The runtime rejected the model or an input.
    Runtime(Error),
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VectorError::Container(ContainerError::BadMagic) => write!(
                f,
                "not a test-vector file: the magic bytes `CVEC` are missing"
            ),
            VectorError::Container(e) => write!(f, "test-vector file: {e}"),
            VectorError::Malformed => write!(f, "test-vector file is malformed"),
            VectorError::WrongModel { vectors, model } => write!(
                f,
                "test vectors were made for the model with CRC {vectors:#010x}, not {model:#010x}"
            ),
            VectorError::InputLength { expected, got } => {
                write!(f, "input has {got} values, {expected} expected")
            }
            VectorError::LabelCount { inputs, labels } => {
                write!(f, "{labels} labels for {inputs} inputs")
            }
            VectorError::Runtime(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for VectorError {}

#[cfg(feature = "std")]
extern crate std;

impl From<Error> for VectorError {
    fn from(e: Error) -> Self {
        VectorError::Runtime(e)
    }
}

impl From<ContainerError> for VectorError {
    fn from(e: ContainerError) -> Self {
        VectorError::Container(e)
    }
}
