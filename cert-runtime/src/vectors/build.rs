//! Making test-vector files on the host (`std` feature).

extern crate std;

use std::vec::Vec;

use super::{Case, Expected, Header, Payload, RefinedExpected, VECTORS, VectorError};
use crate::container;
use crate::decide::Buffers;
use crate::limits::REFINE_DEPTH;
use crate::model::Model;
use crate::refine::Trail;
use crate::verdict::Verdict;

/// Encodes a test-vector file from a header and cases.
pub fn encode(header: &Header, cases: &[Case<'_>]) -> Result<Vec<u8>, VectorError> {
    let input_bytes = (header.input_len as usize).saturating_mul(4);
    let mut body = Vec::new();
    for case in cases {
        if case.input.len() != input_bytes {
            return Err(VectorError::InputLength {
                expected: header.input_len as usize,
                got: case.input.len() / 4,
            });
        }
        body.extend(postcard::to_allocvec(case).map_err(|_| VectorError::Malformed)?);
    }
    let payload = Payload {
        header: *header,
        count: u32::try_from(cases.len()).map_err(|_| VectorError::Malformed)?,
        cases: &body,
    };
    let payload = postcard::to_allocvec(&payload).map_err(|_| VectorError::Malformed)?;
    Ok(container::seal(VECTORS, &payload)?)
}

/// Decides every input at the model's own spec with the host's runtime
/// (`Model::decide`, with a trail of [`REFINE_DEPTH`] levels, what the
/// boards use), and writes the results as a test-vector file. `labels`, when given, has one entry per input.
pub fn build(
    model_file: &[u8],
    inputs: &[Vec<f32>],
    labels: Option<&[u16]>,
) -> Result<Vec<u8>, VectorError> {
    if let Some(labels) = labels
        && labels.len() != inputs.len()
    {
        return Err(VectorError::LabelCount {
            inputs: inputs.len(),
            labels: labels.len(),
        });
    }
    let model = Model::from_bytes(model_file)?;
    let mut scratch = std::vec![0i16; model.decide_scratch_len()];
    let mut counterexample = std::vec![0f32; model.input_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut buffers = Buffers {
        scratch: &mut scratch,
        trail: &mut trail,
        counterexample: &mut counterexample,
    };
    let refines = model.refine_boxes() > 0;
    let mut bytes = Vec::with_capacity(inputs.len());
    let mut found = Vec::with_capacity(inputs.len());
    for input in inputs {
        let decision = model.decide(input, &mut buffers)?;
        let ce = match decision.verdict {
            Verdict::Refuted => le_bytes(buffers.counterexample),
            _ => Vec::new(),
        };
        let refined = (refines && !decision.certificate.certified).then_some((
            decision.verdict,
            decision.boxes,
            ce,
        ));
        bytes.push(le_bytes(input));
        found.push((decision.certificate, refined));
    }
    let cases: Vec<Case<'_>> = bytes
        .iter()
        .zip(&found)
        .enumerate()
        .map(|(i, (input, (cert, refined)))| Case {
            input,
            label: labels.map(|l| l[i]),
            expected: Expected {
                // Certificates come from models with at most MAX_CLASSES classes.
                class: cert.class as u16,
                certified: cert.certified,
                margins: cert.margins.clone(),
                refined: refined
                    .as_ref()
                    .map(|(verdict, boxes, ce)| RefinedExpected {
                        verdict: *verdict,
                        boxes: *boxes,
                        counterexample: ce,
                    }),
            },
        })
        .collect();
    let header = Header {
        model_crc: container::stored_checksum(model_file),
        input_len: u32::try_from(model.input_len()).map_err(|_| VectorError::Malformed)?,
    };
    encode(&header, &cases)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}
