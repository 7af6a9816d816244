//! The golden model of FORMAT.md sections 2.4 and 4.7: its spec and its exact bytes.

use cert_runtime::Quantizer;
use cert_runtime::format::owned::OwnedModel;
use cert_runtime::format::{CertSpec, InputSpec, Layer, ModelDesc, Output, Params, Requantize};

/// The golden model of FORMAT.md: a 1x2x2 input, one Dense 4 -> 2 hidden
/// layer with a fused ReLU, and a Dense 2 -> 2 logits layer.
pub fn golden_spec() -> OwnedModel {
    let grey = Quantizer {
        scale: 1.0 / 256.0,
        offset: 0.0,
        zero_point: -128,
        domain_min: 0.0,
        domain_max: 1.0,
    };
    let hidden = Output::Requantize(Requantize::new(
        &[1 << 30, 1 << 30],
        &[36, 37],
        -128,
        -128,
        127,
        0.25,
    ));
    let layers = vec![
        Layer::dense(
            4,
            2,
            Params::new(&[1, -2, 3, -4, 5, 6, -7, 8], &[100, -100], hidden),
        ),
        Layer::dense(
            2,
            2,
            Params::new(&[10, -10, -10, 10], &[0, 1], Output::Logits { scale: 0.5 }),
        ),
    ];
    ModelDesc::new(
        InputSpec::new([1, 2, 2], &[grey], &["grey".into()]),
        CertSpec::new(&[0.0625], 16),
        &["no".into(), "yes".into()],
        "golden",
        layers,
    )
    .unwrap()
}

/// The golden model file, annotated field by field in FORMAT.md.
#[rustfmt::skip]
pub const GOLDEN: &[u8] = &[
    // container: magic "CERT", version 3 (u16 LE), payload length 112 (u32 LE)
    0x43, 0x45, 0x52, 0x54, 0x03, 0x00, 0x70, 0x00, 0x00, 0x00,
    // header.input: channels 1, height 2, width 2 (varints)
    0x01, 0x02, 0x02,
    // quantizers: 17 bytes, one per channel: scale 1/256, offset 0.0 (f32 LE),
    // zero_point -128 (i8), domain_min 0.0, domain_max 1.0 (f32 LE)
    0x11, 0x00, 0x00, 0x80, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f,
    // names: "grey"
    0x04, 0x67, 0x72, 0x65, 0x79,
    // header.certification: eps 4 bytes, one f32 LE per channel, 0.0625;
    // refine_boxes 16 (varint); bounds Bounds::Interval (0)
    0x04, 0x00, 0x00, 0x80, 0x3d, 0x10, 0x00,
    // header.classes 2; class_names "no,yes"; description "golden"
    0x02,
    0x06, 0x6e, 0x6f, 0x2c, 0x79, 0x65, 0x73,
    0x06, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e,
    // layers: 2 of them; layer 0 is Layer::Dense (0), inputs 4, outputs 2
    0x02, 0x00, 0x04, 0x02,
    // weights: 8 bytes of int8 [1, -2, 3, -4, 5, 6, -7, 8]
    0x08, 0x01, 0xfe, 0x03, 0xfc, 0x05, 0x06, 0xf9, 0x08,
    // bias: 8 bytes, i32 LE [100, -100]
    0x08, 0x64, 0x00, 0x00, 0x00, 0x9c, 0xff, 0xff, 0xff,
    // output: Output::Requantize (0); multiplier: 8 bytes, i32 LE [2^30, 2^30]
    0x00, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,
    // shift: 2 bytes [36, 37]; zero_point -128, min -128, max 127; scale 0.25
    0x02, 0x24, 0x25, 0x80, 0x80, 0x7f, 0x00, 0x00, 0x80, 0x3e,
    // layer 1: Layer::Dense (0), inputs 2, outputs 2; weights [10, -10, -10, 10]
    0x00, 0x02, 0x02, 0x04, 0x0a, 0xf6, 0xf6, 0x0a,
    // bias: 8 bytes, i32 LE [0, 1]
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    // output: Output::Logits (1), scale 0.5
    0x01, 0x00, 0x00, 0x00, 0x3f,
    // CRC-32/ISO-HDLC of the payload, 0x29ad1803 (u32 LE)
    0x03, 0x18, 0xad, 0x29,
];

/// The golden spec encoded by the builder.
pub fn golden() -> Vec<u8> {
    super::encode(&golden_spec())
}
