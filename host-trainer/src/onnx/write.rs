//! A certnn network as ONNX (opset 17): the input normalisation as Sub and
//! Div, each layer with its BatchNorm folded as a Conv or Gemm with bias,
//! ReLUs, a Flatten before the first fully connected layer of an image
//! network, and the logits as the one output. onnxruntime runs it, and
//! [`super::import`] reads it back.

use onnx_ir::{
    AttributeProto, AttributeType, GraphProto, Message, ModelProto, NodeProto, TensorProto,
    ValueInfoProto,
};

use crate::export::fold_batch_norm;
use crate::model::Net;

/// The ONNX model of `net`, whose inputs are `[batch, channels, height,
/// width]`, or `[batch, features]` for a network of feature vectors (no
/// convolutions, 1x1 inputs).
pub fn to_onnx(net: &Net, channels: usize, height: usize, width: usize) -> Result<Vec<u8>, String> {
    let features = net.convs.is_empty() && height * width == 1;
    let mut g = GraphProto::new();
    g.name = "certnn".into();
    let input_dims: Vec<Option<i64>> = if features {
        vec![None, Some(channels as i64)]
    } else {
        vec![
            None,
            Some(channels as i64),
            Some(height as i64),
            Some(width as i64),
        ]
    };
    g.input.push(value_info("input", &input_dims));
    let mut value = "input".to_string();
    let next =
        |g: &mut GraphProto, op: &str, inputs: Vec<String>, attributes: Vec<AttributeProto>| {
            let name = format!("{}_{}", op.to_lowercase(), g.node.len());
            let mut n = NodeProto::new();
            n.op_type = op.into();
            n.name = name.clone();
            n.input = inputs;
            n.output = vec![name.clone()];
            n.attribute = attributes;
            g.node.push(n);
            name
        };
    if let Some(norm) = &net.input_norm {
        let shape: Vec<i64> = if features {
            vec![1, channels as i64]
        } else {
            vec![1, channels as i64, 1, 1]
        };
        let mean = values(norm.mean.val());
        let std: Vec<f32> = values(norm.inv_std.val()).iter().map(|v| 1.0 / v).collect();
        g.initializer.push(tensor("input_mean", &shape, mean));
        g.initializer.push(tensor("input_std", &shape, std));
        value = next(&mut g, "Sub", vec![value, "input_mean".into()], vec![]);
        value = next(&mut g, "Div", vec![value, "input_std".into()], vec![]);
    }
    let layers = fold_batch_norm(net);
    let last = layers.len() - 1;
    let mut flat = features;
    for (i, layer) in layers.iter().enumerate() {
        let (w, b) = (format!("layer{i}.weight"), format!("layer{i}.bias"));
        let out = layer.outputs as i64;
        g.initializer.push(tensor(&b, &[out], layer.bias.clone()));
        if let Some(conv) = layer.conv {
            let k = conv.kernel as i64;
            let dims = [out, layer.inputs as i64, k, k];
            g.initializer.push(tensor(&w, &dims, layer.weights.clone()));
            let s = conv.stride as i64;
            let p = conv.padding as i64;
            let attributes = vec![
                ints("kernel_shape", &[k, k]),
                ints("strides", &[s, s]),
                ints("pads", &[p, p, p, p]),
                ints("dilations", &[1, 1]),
                int("group", 1),
            ];
            value = next(&mut g, "Conv", vec![value, w, b], attributes);
        } else {
            if !flat {
                value = next(&mut g, "Flatten", vec![value], vec![int("axis", 1)]);
                flat = true;
            }
            let dims = [out, layer.inputs as i64];
            g.initializer.push(tensor(&w, &dims, layer.weights.clone()));
            let attributes = vec![float("alpha", 1.0), float("beta", 1.0), int("transB", 1)];
            value = next(&mut g, "Gemm", vec![value, w, b], attributes);
        }
        if i < last {
            value = next(&mut g, "Relu", vec![value], vec![]);
        }
    }
    let classes = layers[last].outputs as i64;
    // The last node's output is the graph's: name it `logits`.
    if let Some(node) = g.node.last_mut().filter(|n| n.output == [value]) {
        node.output = vec!["logits".into()];
    }
    g.output.push(value_info("logits", &[None, Some(classes)]));
    let mut m = ModelProto::new();
    m.ir_version = 8;
    m.producer_name = "certnn".into();
    m.producer_version = env!("CARGO_PKG_VERSION").into();
    m.opset_import.push(Default::default());
    m.opset_import[0].version = 17;
    *m.graph.mut_or_insert_default() = g;
    m.write_to_bytes().map_err(|e| e.to_string())
}

fn values(t: burn::tensor::Tensor<1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default()
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    let t = v.type_.mut_or_insert_default().mut_tensor_type();
    t.elem_type = 1; // FLOAT
    let shape = t.shape.mut_or_insert_default();
    for d in dims {
        shape.dim.push(Default::default());
        let dim = shape.dim.last_mut().expect("just pushed");
        match d {
            Some(x) => dim.set_dim_value(*x),
            None => dim.set_dim_param("batch".into()),
        }
    }
    v
}

fn tensor(name: &str, dims: &[i64], data: Vec<f32>) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1; // FLOAT
    t.float_data = data;
    t
}

fn attribute(name: &str, kind: AttributeType) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = kind.into();
    a
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = attribute(name, AttributeType::INTS);
    a.ints = v.to_vec();
    a
}

fn int(name: &str, v: i64) -> AttributeProto {
    let mut a = attribute(name, AttributeType::INT);
    a.i = v;
    a
}

fn float(name: &str, v: f32) -> AttributeProto {
    let mut a = attribute(name, AttributeType::FLOAT);
    a.f = v;
    a
}
