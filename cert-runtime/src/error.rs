//! The typed errors of the runtime: every way a framed buffer, a model
//! file, an input or a buffer can be wrong, each with a readable message.

use core::fmt;

use crate::limits::{MAX_ACTIVATION, MAX_CLASSES, MAX_LAYERS};

/// Why a framed buffer (model file, test-vector file, input frame) was
/// rejected by [`crate::container`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ContainerError {
    /// The buffer does not start with the kind's magic bytes.
    BadMagic,
    /// The version is not the one this runtime reads.
    UnsupportedVersion {
        /// Version written in the buffer.
        found: u16,
        /// Version this runtime reads.
        supported: u16,
    },
    /// The buffer ends before its declared payload and checksum.
    Truncated {
        /// Bytes the header declares.
        needed: usize,
        /// Bytes actually present.
        got: usize,
    },
    /// Bytes follow the checksum: the buffer was concatenated or padded.
    TrailingBytes {
        /// How many bytes follow the checksum.
        extra: usize,
    },
    /// The CRC-32 of the payload does not match: the bytes are corrupt.
    ChecksumMismatch {
        /// Checksum stored in the buffer.
        stored: u32,
        /// Checksum of the bytes present.
        computed: u32,
    },
    /// An output buffer given to an encoder is too small.
    BufferTooSmall,
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ContainerError::BadMagic => {
                write!(f, "its magic bytes are missing (wrong kind of file?)")
            }
            ContainerError::UnsupportedVersion { found, supported } => write!(
                f,
                "version {found} is not supported (this runtime reads version {supported})"
            ),
            ContainerError::Truncated { needed, got } => {
                write!(f, "truncated: {needed} bytes needed, {got} present")
            }
            ContainerError::TrailingBytes { extra } => {
                write!(f, "{extra} unexpected bytes follow its checksum")
            }
            ContainerError::ChecksumMismatch { stored, computed } => write!(
                f,
                "corrupt: CRC-32 {computed:#010x} does not match the stored {stored:#010x}"
            ),
            ContainerError::BufferTooSmall => write!(f, "the output buffer is too small"),
        }
    }
}

/// Why loading a model, or predicting, certifying or refining an input,
/// failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The model file's framing is wrong (see [`ContainerError`]).
    Container(ContainerError),
    /// The file is a model in an older format version, written by an
    /// earlier `certnn`; it has to be exported again (or upgraded).
    FormatOutdated {
        /// Version written in the file.
        found: u16,
        /// Version this runtime reads.
        supported: u16,
    },
    /// The payload is not a valid postcard encoding of a model.
    Malformed,
    /// The model has no layers, a class count outside `2..=MAX_CLASSES`,
    /// an input that is empty or larger than [`MAX_ACTIVATION`]
    /// values, or a layer whose fan-in is larger than that (a layer output
    /// outside those limits is a [`Error::ShapeMismatch`]).
    UnsupportedSize,
    /// The input spec of one input channel is out of range: scale not
    /// finite and positive, offset or domain not finite, an empty domain,
    /// or a certified eps that is negative or not finite.
    InvalidInputSpec {
        /// The offending input channel.
        channel: usize,
    },
    /// The class names or the input channel names are not empty and not
    /// exactly one per class (channel), comma-separated, none empty.
    InvalidNames,
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
    /// An input value lies outside its channel's input domain.
    InputOutOfDomain {
        /// Index of the first such value.
        index: usize,
    },
    /// A perturbation budget has an eps that is negative, NaN or infinite.
    InvalidEps {
        /// The input channel of the offending eps.
        channel: usize,
    },
    /// A per-channel perturbation budget does not have one eps per input
    /// channel.
    BudgetLength {
        /// Input channels of the model.
        expected: usize,
        /// eps values given.
        got: usize,
    },
    /// The model needs a part of the runtime this build leaves out (a
    /// firmware built without the `conv` or `refine` feature).
    Unsupported {
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// The refinement trail is shallower than the search can go: its
    /// verdicts would depend on the trail's depth.
    TrailTooShallow {
        /// Levels the refinement may need (`Model::refine_depth`).
        needed: usize,
        /// Levels the trail holds.
        capacity: usize,
    },
    /// A buffer the caller lent for a result (a counterexample) does not
    /// have one value per input.
    OutputLength {
        /// Values needed.
        expected: usize,
        /// Values provided.
        got: usize,
    },
}

impl From<ContainerError> for Error {
    fn from(e: ContainerError) -> Self {
        Error::Container(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Container(ContainerError::BadMagic) => {
                write!(f, "not a model file: the magic bytes `CERT` are missing")
            }
            Error::Container(e) => write!(f, "model file: {e}"),
            Error::FormatOutdated { found, supported } => write!(
                f,
                "model format version {found} is too old (this runtime reads version {supported}): export the run again \
                 (`certnn export --run DIR --out FILE`) or upgrade the file in place of a run \
                 (`certnn upgrade --model FILE --out NEW`, with `--eps E` for a version-1 file)"
            ),
            Error::Malformed => write!(
                f,
                "model payload is malformed (not a valid model description)"
            ),
            Error::UnsupportedSize => write!(
                f,
                "model must have 1 to {} layers, 2 to {} classes, and inputs and activations of 1 to {} values",
                MAX_LAYERS, MAX_CLASSES, MAX_ACTIVATION
            ),
            Error::InvalidInputSpec { channel } => write!(
                f,
                "input channel {channel}: quantiser, domain or certified eps out of range"
            ),
            Error::InvalidNames => write!(
                f,
                "class and channel names must be empty or one per class (channel), comma-separated and not empty"
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
                    "input value {index} lies outside its channel's input domain"
                )
            }
            Error::InvalidEps { channel } => write!(
                f,
                "eps of input channel {channel} must be a finite number >= 0"
            ),
            Error::BudgetLength { expected, got } => write!(
                f,
                "the perturbation budget has {got} eps values, the model has {expected} input channels"
            ),
            Error::Unsupported { feature } => write!(
                f,
                "the model needs cert-runtime's `{feature}` feature, which this build leaves out"
            ),
            Error::TrailTooShallow { needed, capacity } => write!(
                f,
                "the refinement trail holds {capacity} levels, the search may need {needed}: use a deeper trail or fewer boxes"
            ),
            Error::OutputLength { expected, got } => {
                write!(f, "output buffer has {got} values, {expected} needed")
            }
        }
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for ContainerError {}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
