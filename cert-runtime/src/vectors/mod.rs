//! Test-vector files: inputs together with the certificates (and refined
//! verdicts) the host computed for them at the model's own spec, so that a
//! device can show it certifies bit for bit like the host.
//!
//! A file is a [`container`] of kind [`VECTORS`] whose
//! payload is the postcard encoding of a [`Header`], a case count and the
//! concatenated postcard encodings of the [`Case`]s. FORMAT.md section 6 is
//! the full spec, golden bytes included. Decoding borrows everything from
//! the file's bytes (flash on a device); [`Vectors::from_bytes`] validates
//! every case up front, so iterating cannot fail afterwards.

#[cfg(feature = "std")]
mod build;
mod error;

#[cfg(feature = "std")]
pub use build::{build, encode};
pub use error::VectorError;

use serde::{Deserialize, Serialize};

use crate::certify::{Certificate, Margins};
use crate::container::{self, Kind};
use crate::verdict::{Decision, Verdict};

/// Test-vector files: magic `CVEC`, version 2.
pub const VECTORS: Kind = Kind {
    magic: *b"CVEC",
    version: 2,
};

/// What a whole file is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// The CRC-32 stored at the end of the model file the vectors were made
    /// for (see [`container::stored_checksum`]): its identity.
    pub model_crc: u32,
    /// Values per input.
    pub input_len: u32,
}

/// What refinement gave for a case the interval pass did not certify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RefinedExpected<'a> {
    /// The verdict.
    pub verdict: Verdict,
    /// Boxes bounded.
    pub boxes: u32,
    /// For a refuted case, the counterexample (`f32` little-endian per
    /// input value); empty otherwise.
    pub counterexample: &'a [u8],
}

/// The certificate the host computed for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expected<'a> {
    /// Predicted class.
    pub class: u16,
    /// Whether the interval pass certified the box.
    pub certified: bool,
    /// Margin lower bounds, one per class.
    pub margins: Margins,
    /// The refinement of an uncertified case, when the model refines.
    #[serde(borrow)]
    pub refined: Option<RefinedExpected<'a>>,
}

impl Expected<'_> {
    /// True when `cert` equals this one exactly: class, flag and every margin.
    pub fn matches(&self, cert: &Certificate) -> bool {
        usize::from(self.class) == cert.class
            && self.certified == cert.certified
            && self.margins == cert.margins
    }

    /// True when a decision equals this one exactly: its certificate and,
    /// for an uncertified case of a model that `refines`, the verdict,
    /// boxes and counterexample (`counterexample` is the buffer the
    /// decision filled).
    pub fn matches_decision(
        &self,
        decision: &Decision,
        counterexample: &[f32],
        refines: bool,
    ) -> bool {
        let refined = match &self.refined {
            Some(r) => {
                refines
                    && r.verdict == decision.verdict
                    && r.boxes == decision.boxes
                    && (r.verdict != Verdict::Refuted
                        || values(r.counterexample).eq(counterexample.iter().copied()))
            }
            None => decision.certificate.certified || !refines,
        };
        refined && self.matches(&decision.certificate)
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
    #[serde(borrow)]
    pub expected: Expected<'a>,
}

/// The `f32` values of a little-endian byte string.
fn values(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Case<'_> {
    /// The input values.
    pub fn input_values(&self) -> impl Iterator<Item = f32> + '_ {
        values(self.input)
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

/// The payload, cases still encoded.
#[derive(Serialize, Deserialize)]
struct Payload<'a> {
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
    /// Checks the framing and decodes every case once, so that
    /// [`Vectors::cases`] cannot fail.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, VectorError> {
        let payload = container::open(bytes, VECTORS)?;
        let payload = match postcard::take_from_bytes::<Payload<'_>>(payload) {
            Ok((payload, [])) => payload,
            _ => return Err(VectorError::Malformed),
        };
        let vectors = Vectors {
            header: payload.header,
            count: payload.count as usize,
            cases: payload.cases,
        };
        vectors.validate()?;
        Ok(vectors)
    }

    fn validate(&self) -> Result<(), VectorError> {
        let bytes = (self.header.input_len as usize)
            .checked_mul(4)
            .ok_or(VectorError::Malformed)?;
        let mut rest = self.cases;
        for _ in 0..self.count {
            let (case, tail) =
                postcard::take_from_bytes::<Case<'_>>(rest).map_err(|_| VectorError::Malformed)?;
            let counterexample = case
                .expected
                .refined
                .as_ref()
                .map_or(0, |r| r.counterexample.len());
            if case.input.len() != bytes || (counterexample != 0 && counterexample != bytes) {
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
        let model = container::stored_checksum(model_file);
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
