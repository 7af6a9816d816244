//! Model files of format version 1 (`certnn` before the model carried its
//! certification spec), read only to upgrade them (`std` feature): a
//! version-1 file is a version-2 file whose input has one quantiser for
//! every channel, with no offset, and no certification spec. Its layers
//! are encoded identically, so an upgraded model computes bit for bit what
//! the old one did.

extern crate std;

use std::string::ToString;

use serde::Deserialize;

use super::owned::OwnedModel;
use super::{CertSpec, Header, InputSpec, Layer, ModelDesc};
use crate::container::{self, Kind};
use crate::error::Error;
use crate::limits::MAX_LAYERS;
use crate::quantizer::Quantizer;

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
/// [`ModelDesc::to_bytes`] then writes it.
pub fn upgrade(bytes: &[u8]) -> Result<OwnedModel, Error> {
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
    let channels = usize::from(input.channels);
    Ok(ModelDesc {
        header: Header {
            input: InputSpec::new(
                [input.channels, input.height, input.width],
                &std::vec![quantizer; channels],
                &[],
            ),
            certification: CertSpec::new(&std::vec![0.0; channels], 0),
            classes: desc.header.classes,
            class_names: desc.header.class_names.to_string(),
            description: desc.header.description.to_string(),
        },
        layers: desc.layers.iter().map(Layer::owned).collect(),
    })
}
