//! The one error type of the runtime: every way a model file, an input or a
//! buffer can be wrong, each with a readable message.

use core::fmt;

/// Why loading a model or certifying an input failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The file does not start with the `CERT` magic: not a model file.
    BadMagic,
    /// The file's format version is not one this runtime reads.
    UnsupportedVersion {
        /// Version written in the file.
        found: u16,
        /// Version this runtime reads.
        supported: u16,
    },
    /// The file ends before its declared payload and checksum.
    Truncated {
        /// Bytes the container header declares.
        needed: usize,
        /// Bytes actually present.
        got: usize,
    },
    /// Bytes follow the checksum: the file was concatenated or padded.
    TrailingBytes {
        /// How many bytes follow the checksum.
        extra: usize,
    },
    /// The CRC-32 of the payload does not match: the file is corrupt.
    ChecksumMismatch {
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum of the bytes present.
        computed: u32,
    },
    /// The payload is not a valid postcard encoding of a model.
    Malformed,
    /// The model has no layers, more than [`crate::MAX_LAYERS`], a class
    /// count outside `2..=MAX_CLASSES`, or an empty input or one larger
    /// than [`crate::MAX_ACTIVATION`].
    UnsupportedSize,
    /// A layer's declared shapes or parameter lengths do not fit together.
    ShapeMismatch {
        /// Index of the offending layer.
        layer: usize,
    },
    /// A layer's quantisation parameters are out of range (negative
    /// multiplier, shift outside `1..=62`, empty clamp range).
    InvalidQuantization {
        /// Index of the offending layer.
        layer: usize,
    },
    /// Only the last layer may produce logits, and it must.
    LogitsNotLast {
        /// Index of the offending layer.
        layer: usize,
    },
    /// A channel's weights and bias could overflow the 32-bit accumulator.
    AccumulatorOverflow {
        /// Index of the offending layer.
        layer: usize,
        /// Output channel whose worst case does not fit.
        channel: usize,
    },
    /// The caller's scratch buffer is smaller than the model needs.
    ScratchTooSmall {
        /// Elements (`i16`) needed.
        needed: usize,
        /// Elements provided.
        got: usize,
    },
    /// The input does not have `channels * height * width` values.
    InputLength {
        /// Values the model expects.
        expected: usize,
        /// Values provided.
        got: usize,
    },
    /// An input value is NaN or infinite.
    NonFiniteInput {
        /// Index of the first such value.
        index: usize,
    },
    /// An input value lies outside the model's input domain.
    InputOutOfDomain {
        /// Index of the first such value.
        index: usize,
    },
    /// eps is negative, NaN or infinite.
    InvalidEps,
    /// An output buffer given to an encoder is too small.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BadMagic => write!(f, "not a model file: the magic bytes `CERT` are missing"),
            Error::UnsupportedVersion { found, supported } => write!(
                f,
                "model format version {found} is not supported (this runtime reads version {supported})"
            ),
            Error::Truncated { needed, got } => write!(
                f,
                "model file is truncated: {needed} bytes needed, {got} present"
            ),
            Error::TrailingBytes { extra } => {
                write!(
                    f,
                    "model file has {extra} unexpected bytes after its checksum"
                )
            }
            Error::ChecksumMismatch { stored, computed } => write!(
                f,
                "model file is corrupt: CRC-32 {computed:#010x} does not match the stored {stored:#010x}"
            ),
            Error::Malformed => write!(f, "model payload is malformed (not a valid layer list)"),
            Error::UnsupportedSize => write!(
                f,
                "model must have 1 to {} layers, 2 to {} classes and 1 to {} input values",
                crate::MAX_LAYERS,
                crate::MAX_CLASSES,
                crate::MAX_ACTIVATION
            ),
            Error::ShapeMismatch { layer } => {
                write!(
                    f,
                    "layer {layer}: shapes or parameter lengths are inconsistent"
                )
            }
            Error::InvalidQuantization { layer } => {
                write!(f, "layer {layer}: quantisation parameters are out of range")
            }
            Error::LogitsNotLast { layer } => write!(
                f,
                "layer {layer}: only the last layer produces logits, and the last layer must"
            ),
            Error::AccumulatorOverflow { layer, channel } => write!(
                f,
                "layer {layer}, channel {channel}: weights and bias could overflow the 32-bit accumulator"
            ),
            Error::ScratchTooSmall { needed, got } => write!(
                f,
                "scratch buffer too small: {needed} i16 elements needed, {got} given"
            ),
            Error::InputLength { expected, got } => {
                write!(f, "input has {got} values, the model expects {expected}")
            }
            Error::NonFiniteInput { index } => write!(f, "input value {index} is NaN or infinite"),
            Error::InputOutOfDomain { index } => {
                write!(
                    f,
                    "input value {index} lies outside the model's input domain"
                )
            }
            Error::InvalidEps => write!(f, "eps must be a finite number >= 0"),
            Error::BufferTooSmall => write!(f, "output buffer too small for the encoded model"),
        }
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for Error {}
