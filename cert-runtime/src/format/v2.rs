//! Model files of format version 2 (before the model said how its margins
//! are bounded), read only to upgrade them (`std` feature): a version-2
//! file is a version-3 file with interval bounds. Its layers are encoded
//! identically, so an upgraded model computes bit for bit what the old one
//! did.

extern crate std;

use serde::Deserialize;

use super::owned::OwnedModel;
use super::{Bounds, CertSpec, Header, InputSpec, Layer, ModelDesc};
use crate::container::{self, Kind};
use crate::error::Error;
use crate::limits::MAX_LAYERS;

/// Version-2 model files: magic `CERT`, version 2.
pub const MODEL_V2: Kind = Kind {
    magic: *b"CERT",
    version: 2,
};

#[derive(Deserialize)]
struct CertSpecV2<'a> {
    eps: &'a [u8],
    refine_boxes: u32,
}

#[derive(Deserialize)]
struct HeaderV2<'a> {
    #[serde(borrow)]
    input: InputSpec<'a>,
    #[serde(borrow)]
    certification: CertSpecV2<'a>,
    classes: u16,
    class_names: &'a str,
    description: &'a str,
}

#[derive(Deserialize)]
struct ModelDescV2<'a> {
    #[serde(borrow)]
    header: HeaderV2<'a>,
    #[serde(borrow)]
    layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

/// Reads a version-2 model file and returns it as a version-3 model with
/// interval bounds ([`ModelDesc::to_bytes`] then writes it).
pub fn upgrade(bytes: &[u8]) -> Result<OwnedModel, Error> {
    let payload = container::open(bytes, MODEL_V2)?;
    let old = match postcard::take_from_bytes::<ModelDescV2<'_>>(payload) {
        Ok((desc, [])) => desc,
        _ => return Err(Error::Malformed),
    };
    let h = old.header;
    let desc = ModelDesc {
        header: Header {
            input: h.input,
            certification: CertSpec {
                eps: h.certification.eps,
                refine_boxes: h.certification.refine_boxes,
                bounds: Bounds::Interval,
            },
            classes: h.classes,
            class_names: h.class_names,
            description: h.description,
        },
        layers: old.layers,
    };
    Ok(desc.owned())
}
