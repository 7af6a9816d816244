//! Model files of format version 1 (`certnn` before the model carried its
//! certification spec), read only to upgrade them (`std` feature): a
//! version-1 file is a version-2 file whose input has one quantiser for
//! every channel, with no offset, and no certification spec. Its layers
//! are encoded identically, so an upgraded model computes bit for bit what
//! the old one did.

extern crate std;

use std::string::ToString;
use std::vec::Vec;

use serde::Deserialize;

use crate::builder::{Certification, Input, LayerSpec, ModelSpec, split_names};
use crate::container::{self, Kind};
use crate::{Error, Layer, MAX_LAYERS, Quantizer};

/// Version-1 model files: magic `CERT`, version 1.
pub const MODEL_V1: Kind = Kind {
    magic: *b"CERT",
    version: 1,
};

#[derive(Deserialize)]
struct InputSpecV1 {
    channels: u16,
    height: u16,
    width: u16,
    scale: f32,
    zero_point: i8,
    domain_min: f32,
    domain_max: f32,
}

#[derive(Deserialize)]
struct HeaderV1<'a> {
    input: InputSpecV1,
    classes: u16,
    class_names: &'a str,
    description: &'a str,
}

#[derive(Deserialize)]
struct ModelDescV1<'a> {
    #[serde(borrow)]
    header: HeaderV1<'a>,
    #[serde(borrow)]
    layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

/// Reads a version-1 model file and returns it as a version-2 model,
/// certified at eps 0 in every channel without refinement until the caller
/// sets its `certification` (version 1 did not record it).
/// [`ModelSpec::to_bytes`] then writes it, checked by the loader.
pub fn upgrade(bytes: &[u8]) -> Result<ModelSpec, Error> {
    let payload = container::open(bytes, MODEL_V1)?;
    let desc = match postcard::take_from_bytes::<ModelDescV1<'_>>(payload) {
        Ok((desc, [])) => desc,
        _ => return Err(Error::Malformed),
    };
    let input = desc.header.input;
    let quantizer = Quantizer {
        scale: input.scale,
        offset: 0.0,
        zero_point: input.zero_point,
        domain_min: input.domain_min,
        domain_max: input.domain_max,
    };
    Ok(ModelSpec {
        input: Input {
            channels: input.channels,
            height: input.height,
            width: input.width,
            quantizers: std::vec![quantizer; usize::from(input.channels)],
            names: Vec::new(),
        },
        certification: Certification {
            eps: std::vec![0.0; usize::from(input.channels)],
            refine_boxes: 0,
        },
        classes: desc.header.classes,
        class_names: split_names(desc.header.class_names),
        description: desc.header.description.to_string(),
        layers: desc.layers.iter().map(LayerSpec::from_layer).collect(),
    })
}
