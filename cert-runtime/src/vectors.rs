//! Test-vector files: inputs together with the certificates the host
//! computed for them, so that a device can show it certifies bit for bit
//! like the host.
//!
//! A file is the postcard encoding of the fields below, followed by the
//! CRC-32/ISO-HDLC of all bytes before it (postcard's CRC flavour, the same
//! checksum as the model container):
//!
//! ```text
//! field      postcard type        meaning
//! magic      [u8; 4] (raw)        b"CVEC"
//! version    varint u16           VECTORS_VERSION
//! model_crc  varint u32           the CRC-32 stored at the end of the model
//!                                 file the vectors were made for
//! eps        f32 little-endian    L-infinity radius in real input units
//! input_len  varint u32           values per input
//! count      varint u32           number of cases
//! cases      byte string          `count` postcard-encoded `Case`s
//! crc        u32 little-endian    CRC-32 of everything before it
//! ```
//!
//! A [`Case`] is its input (a byte string of `input_len` `f32`s,
//! little-endian), an optional label and the [`Expected`] certificate.
//! Decoding borrows everything from the file's bytes (flash on a device);
//! [`Vectors::from_bytes`] validates every case up front, so iterating
//! cannot fail afterwards.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::format::CONTAINER_TRAILER_LEN;
use crate::{Certificate, Margins};

/// The four bytes every test-vector file starts with.
pub const MAGIC: [u8; 4] = *b"CVEC";
/// The test-vector format version this runtime reads and writes.
pub const VECTORS_VERSION: u16 = 1;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Why a test-vector file could not be made, read or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VectorError {
    /// The file does not start with `CVEC`: not a test-vector file.
    BadMagic,
    /// The file's version is not one this runtime reads.
    UnsupportedVersion {
        /// Version written in the file.
        found: u16,
        /// Version this runtime reads.
        supported: u16,
    },
    /// The CRC-32 does not match: the file is corrupt.
    ChecksumMismatch,
    /// The bytes are not a valid encoding (truncated, trailing bytes, or a
    /// case count or input length that does not add up).
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
    Runtime(crate::Error),
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VectorError::BadMagic => {
                write!(
                    f,
                    "not a test-vector file: the magic bytes `CVEC` are missing"
                )
            }
            VectorError::UnsupportedVersion { found, supported } => write!(
                f,
                "test-vector version {found} is not supported (this runtime reads version {supported})"
            ),
            VectorError::ChecksumMismatch => {
                write!(f, "test-vector file is corrupt: its CRC-32 does not match")
            }
            VectorError::Malformed => write!(f, "test-vector file is malformed or truncated"),
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

impl From<crate::Error> for VectorError {
    fn from(e: crate::Error) -> Self {
        VectorError::Runtime(e)
    }
}

/// What a whole file is about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// The CRC-32 stored at the end of the model file (see [`model_crc`]).
    pub model_crc: u32,
    /// L-infinity radius every case was certified with, in real units.
    pub eps: f32,
    /// Values per input.
    pub input_len: u32,
}

/// The certificate the host computed for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expected {
    /// Predicted class.
    pub class: u16,
    /// Whether the eps box is certified.
    pub certified: bool,
    /// Margin lower bounds, one per class.
    pub margins: Margins,
}

impl Expected {
    /// True when `cert` equals this one exactly: class, flag and every margin.
    pub fn matches(&self, cert: &Certificate) -> bool {
        usize::from(self.class) == cert.class
            && self.certified == cert.certified
            && self.margins == cert.margins
    }
}

impl From<&Certificate> for Expected {
    fn from(cert: &Certificate) -> Self {
        Expected {
            // Certificates come from models with at most MAX_CLASSES classes.
            class: cert.class as u16,
            certified: cert.certified,
            margins: cert.margins.clone(),
        }
    }
}

/// One input with its expected certificate, borrowed from the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case<'a> {
    /// The input, `f32` little-endian, CHW order.
    pub input: &'a [u8],
    /// The true class, when known.
    pub label: Option<u16>,
    /// What the host's certification gave.
    pub expected: Expected,
}

impl Case<'_> {
    /// The input values.
    pub fn input_values(&self) -> impl Iterator<Item = f32> + '_ {
        self.input
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Copies the input into the front of `out` and returns that part.
    pub fn input_into<'o>(&self, out: &'o mut [f32]) -> Result<&'o [f32], VectorError> {
        let (len, got) = (self.input.len() / 4, out.len());
        let dst = out
            .get_mut(..len)
            .ok_or(VectorError::InputLength { expected: len, got })?;
        for (d, x) in dst.iter_mut().zip(self.input_values()) {
            *d = x;
        }
        Ok(dst)
    }
}

/// The file layout, CRC excluded.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    magic: [u8; 4],
    version: u16,
    header: Header,
    count: u32,
    cases: &'a [u8],
}

/// A validated test-vector file.
#[derive(Debug, Clone)]
pub struct Vectors<'a> {
    header: Header,
    count: usize,
    cases: &'a [u8],
}

impl<'a> Vectors<'a> {
    /// Checks magic, version and CRC, and decodes every case once, so that
    /// [`Vectors::cases`] cannot fail.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, VectorError> {
        if !bytes.starts_with(&MAGIC) {
            return Err(VectorError::BadMagic);
        }
        let (found, _) = postcard::take_from_bytes::<u16>(&bytes[MAGIC.len()..])
            .map_err(|_| VectorError::Malformed)?;
        if found != VECTORS_VERSION {
            return Err(VectorError::UnsupportedVersion {
                found,
                supported: VECTORS_VERSION,
            });
        }
        let wire = match postcard::take_from_bytes_crc32::<Wire<'_>>(bytes, CRC32.digest()) {
            Ok((wire, [])) => wire,
            Err(postcard::Error::DeserializeBadCrc) => return Err(VectorError::ChecksumMismatch),
            _ => return Err(VectorError::Malformed),
        };
        let vectors = Vectors {
            header: wire.header,
            count: wire.count as usize,
            cases: wire.cases,
        };
        vectors.validate()?;
        Ok(vectors)
    }

    fn validate(&self) -> Result<(), VectorError> {
        let mut rest = self.cases;
        let bytes = self.header.input_len as usize * 4;
        for _ in 0..self.count {
            let (case, tail) =
                postcard::take_from_bytes::<Case<'_>>(rest).map_err(|_| VectorError::Malformed)?;
            if case.input.len() != bytes {
                return Err(VectorError::Malformed);
            }
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(VectorError::Malformed);
        }
        Ok(())
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the file holds no cases.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Fails unless the vectors were made for the model file `model_file`.
    pub fn check_model(&self, model_file: &[u8]) -> Result<(), VectorError> {
        let model = model_crc(model_file);
        if model != self.header.model_crc {
            return Err(VectorError::WrongModel {
                vectors: self.header.model_crc,
                model,
            });
        }
        Ok(())
    }

    /// The cases, in file order.
    pub fn cases(&self) -> impl Iterator<Item = Case<'a>> + use<'a> {
        let mut rest = self.cases;
        (0..self.count).map_while(move |_| {
            let (case, tail) = postcard::take_from_bytes::<Case<'a>>(rest).ok()?;
            rest = tail;
            Some(case)
        })
    }
}

/// The identity of a model file: the CRC-32 stored in its last four bytes
/// (0 for a file too short to have one).
pub fn model_crc(model_file: &[u8]) -> u32 {
    match model_file.len().checked_sub(CONTAINER_TRAILER_LEN) {
        Some(at) => {
            let b = &model_file[at..];
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }
        None => 0,
    }
}

#[cfg(feature = "std")]
extern crate std;

/// Encodes a test-vector file from a header and cases.
#[cfg(feature = "std")]
pub fn encode(header: &Header, cases: &[Case<'_>]) -> Result<std::vec::Vec<u8>, VectorError> {
    let mut body = std::vec::Vec::new();
    for case in cases {
        if case.input.len() != header.input_len as usize * 4 {
            return Err(VectorError::InputLength {
                expected: header.input_len as usize,
                got: case.input.len() / 4,
            });
        }
        body.extend(postcard::to_allocvec(case).map_err(|_| VectorError::Malformed)?);
    }
    let wire = Wire {
        magic: MAGIC,
        version: VECTORS_VERSION,
        header: *header,
        count: u32::try_from(cases.len()).map_err(|_| VectorError::Malformed)?,
        cases: &body,
    };
    postcard::to_allocvec_crc32(&wire, CRC32.digest()).map_err(|_| VectorError::Malformed)
}

/// Certifies every input with the host's runtime and writes the results as
/// a test-vector file. `labels`, when given, has one entry per input.
#[cfg(feature = "std")]
pub fn build(
    model_file: &[u8],
    eps: f32,
    inputs: &[std::vec::Vec<f32>],
    labels: Option<&[u16]>,
) -> Result<std::vec::Vec<u8>, VectorError> {
    use std::vec::Vec;

    if let Some(labels) = labels
        && labels.len() != inputs.len()
    {
        return Err(VectorError::LabelCount {
            inputs: inputs.len(),
            labels: labels.len(),
        });
    }
    let model = crate::Model::from_bytes(model_file)?;
    let mut scratch = std::vec![0i16; model.certify_scratch_len()];
    let mut bytes = Vec::with_capacity(inputs.len());
    let mut expected = Vec::with_capacity(inputs.len());
    for input in inputs {
        let cert = model.certify(input, eps, &mut scratch)?;
        expected.push(Expected::from(&cert));
        bytes.push(
            input
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
    }
    let cases: Vec<Case<'_>> = bytes
        .iter()
        .zip(expected)
        .enumerate()
        .map(|(i, (input, expected))| Case {
            input,
            label: labels.map(|l| l[i]),
            expected,
        })
        .collect();
    let header = Header {
        model_crc: model_crc(model_file),
        eps,
        input_len: model.input_len() as u32,
    };
    encode(&header, &cases)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::builder::{LayerKind, LayerSpec, ModelSpec, OutputSpec};
    use crate::{InputSpec, Model};

    /// A 4-2 model: class 0 wins when the first two inputs outweigh the last two.
    fn model_file() -> Vec<u8> {
        ModelSpec {
            input: InputSpec {
                channels: 1,
                height: 1,
                width: 4,
                scale: 1.0 / 255.0,
                zero_point: -128,
                domain_min: 0.0,
                domain_max: 1.0,
            },
            classes: 2,
            class_names: "a,b".into(),
            description: "vectors test".into(),
            layers: vec![LayerSpec {
                kind: LayerKind::Dense {
                    inputs: 4,
                    outputs: 2,
                },
                weights: vec![1, 1, -1, -1, -1, -1, 1, 1],
                bias: vec![0, 0],
                output: OutputSpec::Logits { scale: 1.0 },
            }],
        }
        .to_bytes()
        .unwrap()
    }

    fn inputs() -> Vec<Vec<f32>> {
        vec![vec![1.0, 1.0, 0.0, 0.0], vec![0.5, 0.5, 0.5, 0.5]]
    }

    #[test]
    fn build_round_trips_and_matches_the_runtime() {
        let model_bytes = model_file();
        let file = build(&model_bytes, 0.05, &inputs(), Some(&[0, 1])).unwrap();
        let vectors = Vectors::from_bytes(&file).unwrap();
        vectors.check_model(&model_bytes).unwrap();
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors.header().input_len, 4);
        let model = Model::from_bytes(&model_bytes).unwrap();
        let mut scratch = vec![0i16; model.certify_scratch_len()];
        let mut buffer = [0f32; 8];
        for (case, input) in vectors.cases().zip(inputs()) {
            let x = case.input_into(&mut buffer).unwrap();
            assert_eq!(x, &input[..]);
            let cert = model.certify(x, 0.05, &mut scratch).unwrap();
            assert!(case.expected.matches(&cert));
        }
        let cases: Vec<Case<'_>> = vectors.cases().collect();
        assert_eq!(cases[0].label, Some(0));
        assert!(cases[0].expected.certified);
        assert!(!cases[1].expected.certified);
    }

    #[test]
    fn a_changed_margin_does_not_match() {
        let model_bytes = model_file();
        let file = build(&model_bytes, 0.05, &inputs(), None).unwrap();
        let case = Vectors::from_bytes(&file).unwrap().cases().next().unwrap();
        let model = Model::from_bytes(&model_bytes).unwrap();
        let mut scratch = vec![0i16; model.certify_scratch_len()];
        let mut cert = model.certify(&inputs()[0], 0.05, &mut scratch).unwrap();
        cert.margins[1] += 1;
        assert!(!case.expected.matches(&cert));
    }

    #[test]
    fn corruption_is_detected() {
        let model_bytes = model_file();
        let file = build(&model_bytes, 0.05, &inputs(), None).unwrap();
        let mut flipped = file.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 1;
        assert!(matches!(
            Vectors::from_bytes(&flipped).unwrap_err(),
            VectorError::ChecksumMismatch | VectorError::Malformed
        ));
        assert_eq!(
            Vectors::from_bytes(&file[..file.len() - 1]).unwrap_err(),
            VectorError::Malformed
        );
        assert_eq!(
            Vectors::from_bytes(&model_bytes).unwrap_err(),
            VectorError::BadMagic
        );
        let mut version = file.clone();
        version[4] = 2;
        assert_eq!(
            Vectors::from_bytes(&version).unwrap_err(),
            VectorError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
    }

    #[test]
    fn vectors_know_their_model() {
        let model_bytes = model_file();
        let file = build(&model_bytes, 0.05, &inputs(), None).unwrap();
        let mut other = model_bytes.clone();
        let last = other.len() - 1;
        other[last] ^= 0xff;
        assert!(matches!(
            Vectors::from_bytes(&file).unwrap().check_model(&other),
            Err(VectorError::WrongModel { .. })
        ));
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let model_bytes = model_file();
        assert_eq!(
            build(&model_bytes, 0.05, &inputs(), Some(&[0])).unwrap_err(),
            VectorError::LabelCount {
                inputs: 2,
                labels: 1
            }
        );
        assert_eq!(
            build(&model_bytes, 0.05, &[vec![0.0; 3]], None).unwrap_err(),
            VectorError::Runtime(crate::Error::InputLength {
                expected: 4,
                got: 3
            })
        );
    }
}
