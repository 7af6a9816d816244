//! Loading and validating a model, its scratch accounting, and integer
//! inference.

use core::marker::PhantomData;
use core::ops::Range;

use cert_kernels::{Kernels, Native};

use crate::budget::Budget;
use crate::error::Error;
use crate::format::{self, Dense, Header, Layer, ModelDesc, Output, Requantize, le_i32};
use crate::layer::{self, Domain, Interval, Layout, Point, Shape, Sink, Span};
use crate::quantizer::Quantizer;
use crate::requant::requantize_checked;
use crate::{MAX_CLASSES, MAX_LAYERS};

/// Logits of one input: one `i32` per class, in the last layer's units.
pub type Logits = heapless::Vec<i32, MAX_CLASSES>;

/// A validated model, borrowing its weights from the file's bytes.
///
/// Loading checks everything the arithmetic relies on (shapes, parameter
/// lengths, quantisation ranges, accumulator headroom, the input spec and
/// the certified budget), so inference and certification cannot fail on a
/// loaded model except through their inputs and buffers.
///
/// `K` are the multiply-accumulate kernels: [`Native`] (the DSP kernels on
/// a Cortex-M4/M7, the portable ones elsewhere) unless
/// [`Model::with_kernels`] picks others, such as the reference
/// [`cert_kernels::Scalar`]; every choice gives bit-identical results.
#[derive(Debug, Clone)]
pub struct Model<'a, K = Native> {
    desc: ModelDesc<'a>,
    /// The last layer, which produces the logits.
    logits_layer: Dense<'a>,
    /// Activation shapes: `shapes[i]` is the input of layer `i`; the last
    /// entry is the logits' shape.
    shapes: heapless::Vec<Shape, { MAX_LAYERS + 1 }>,
    /// Largest activation (input included, logits excluded), in values.
    max_activation: usize,
    /// Largest receptive field of a convolution (0 without convolutions).
    max_column: usize,
    kernels: PhantomData<K>,
}

/// The predicted class and logits of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// Index of the largest logit (the lowest index on ties).
    pub class: usize,
    /// Logits, one per class.
    pub logits: Logits,
}

/// The buffers of one interval pass, carved from the caller's scratch:
/// two packed interval buffers that the layers ping-pong between, and one
/// packed column for the convolutions. After [`Model::bound`], `front`
/// holds the last hidden layer's bounds and `back` is free.
pub(crate) struct Workspace<'s> {
    pub front: &'s mut [i16],
    pub back: &'s mut [i16],
    pub col: &'s mut [i16],
}

impl<'a> Model<'a> {
    /// Loads and validates a model file. `bytes` can live in flash: weights
    /// are borrowed, nothing is copied.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::from_desc(format::decode(bytes)?)
    }

    /// Validates a decoded model description.
    pub fn from_desc(desc: ModelDesc<'a>) -> Result<Self, Error> {
        let header = &desc.header;
        let classes = usize::from(header.classes);
        if desc.layers.is_empty() || !(2..=MAX_CLASSES).contains(&classes) {
            return Err(Error::UnsupportedSize);
        }
        validate_input(header)?;
        validate_names(header.input.names, usize::from(header.input.channels))
            .map_err(|()| Error::InvalidNames)?;
        validate_names(header.class_names, classes).map_err(|()| Error::InvalidNames)?;
        let input = header.input;
        let mut shape = Shape {
            channels: input.channels.into(),
            height: input.height.into(),
            width: input.width.into(),
        };
        if !shape.fits() {
            return Err(Error::UnsupportedSize);
        }
        let mut shapes = heapless::Vec::new();
        let (mut max_activation, mut max_column) = (0, 0);
        let mut logits_layer = None;
        let last = desc.layers.len() - 1;
        for (i, layer) in desc.layers.iter().enumerate() {
            max_activation = max_activation.max(shape.len());
            // Capacity is MAX_LAYERS + 1 and there are at most MAX_LAYERS layers.
            let _ = shapes.push(shape);
            let out = match layer {
                Layer::Dense(d) => layer::dense::output_shape(d, shape),
                Layer::Conv2d(c) => layer::conv::output_shape(c, shape),
            }
            .filter(Shape::fits)
            .ok_or(Error::ShapeMismatch { layer: i })?;
            validate_params(i, layer, shape, out)?;
            if let Layer::Conv2d(c) = layer {
                max_column = max_column.max(layer::conv::fan_in(c));
            }
            match (layer, i == last) {
                (Layer::Dense(d), true) if matches!(d.params.output, Output::Logits { .. }) => {
                    if out.len() != classes {
                        return Err(Error::ShapeMismatch { layer: i });
                    }
                    logits_layer = Some(*d);
                }
                (_, false) if matches!(layer.params().output, Output::Requantize(_)) => {}
                _ => return Err(Error::LogitsNotLast { layer: i }),
            }
            shape = out;
        }
        let _ = shapes.push(shape);
        let logits_layer = logits_layer.ok_or(Error::LogitsNotLast { layer: last })?;
        Ok(Model {
            desc,
            logits_layer,
            shapes,
            max_activation,
            max_column,
            kernels: PhantomData,
        })
    }
}

impl<'a, K: Kernels> Model<'a, K> {
    /// The same model computing with the kernels `L` (for instance the
    /// reference [`cert_kernels::Scalar`], to check the native ones).
    pub fn with_kernels<L: Kernels>(self) -> Model<'a, L> {
        Model {
            desc: self.desc,
            logits_layer: self.logits_layer,
            shapes: self.shapes,
            max_activation: self.max_activation,
            max_column: self.max_column,
            kernels: PhantomData,
        }
    }

    /// Header: input spec, certification spec, classes, names, description.
    pub fn header(&self) -> &Header<'a> {
        &self.desc.header
    }

    /// Layers in order.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.desc.layers
    }

    /// The decoded description (what an encoder writes back).
    pub fn desc(&self) -> &ModelDesc<'a> {
        &self.desc
    }

    /// Activation shapes: entry `i` is the input of layer `i`, the last entry the logits.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.shapes[0].len()
    }

    /// Number of input channels (image planes, or sensor features).
    pub fn input_channels(&self) -> usize {
        usize::from(self.desc.header.input.channels)
    }

    /// The quantiser and domain of input channel `c`.
    pub fn quantizer(&self, c: usize) -> Option<Quantizer> {
        self.desc.header.input.quantizer(c)
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        usize::from(self.desc.header.classes)
    }

    /// The name of class `class`, when the model names its classes.
    pub fn class_name(&self, class: usize) -> Option<&'a str> {
        self.desc.header.class_name(class)
    }

    /// The name of input channel `c`, when the model names its channels.
    pub fn channel_name(&self, c: usize) -> Option<&'a str> {
        self.desc.header.input.name(c)
    }

    /// The perturbation budget the model was certified for: what the
    /// device certifies unless told otherwise.
    pub fn budget(&self) -> Budget<'a> {
        Budget::encoded(self.desc.header.certification.eps)
    }

    /// Boxes refinement may bound per input by default (0: none).
    pub fn refine_boxes(&self) -> u32 {
        self.desc.header.certification.refine_boxes
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| l.params().weights.len() + l.params().bias.len() / 4)
            .sum()
    }

    /// Scratch `i16` elements [`Model::predict`] needs: two packed
    /// activation buffers, one packed column, and one element of slack to
    /// align them to 4 bytes.
    pub fn predict_scratch_len(&self) -> usize {
        1 + 2 * Point::packed_len(self.max_activation) + Point::packed_len(self.max_column)
    }

    /// Scratch `i16` elements [`Model::certify`] and
    /// [`Model::certified_radius`] need: the same in interval form.
    pub fn certify_scratch_len(&self) -> usize {
        1 + 2 * Interval::packed_len(self.max_activation) + Interval::packed_len(self.max_column)
    }

    /// Scratch bytes [`Model::certify`] needs (`2 * certify_scratch_len()`).
    pub fn certify_scratch_bytes(&self) -> usize {
        2 * self.certify_scratch_len()
    }

    /// Predicts the class of a real-valued input (CHW order).
    pub fn predict(&self, input: &[f32], scratch: &mut [i16]) -> Result<Prediction, Error> {
        self.predict_marked(input, scratch, &mut |_| {})
    }

    /// [`Model::predict`], calling `mark(i)` as each layer `i` finishes
    /// (the last one is the logits layer): what a profiler needs to time
    /// the layers on a device.
    pub fn predict_marked(
        &self,
        input: &[f32],
        scratch: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Result<Prediction, Error> {
        self.check_input(input)?;
        let scratch = self.take_scratch(scratch, self.predict_scratch_len())?;
        let (buffers, col) = scratch.split_at_mut(2 * Point::packed_len(self.max_activation));
        fill_then(buffers, self.max_activation, |x| self.fill_point(x, input));
        Ok(self.infer(buffers, col, mark))
    }

    /// Predicts the class of an already quantised input.
    pub fn predict_quantized(
        &self,
        input: &[i8],
        scratch: &mut [i16],
    ) -> Result<Prediction, Error> {
        if input.len() != self.input_len() {
            return Err(Error::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let scratch = self.take_scratch(scratch, self.predict_scratch_len())?;
        let (buffers, col) = scratch.split_at_mut(2 * Point::packed_len(self.max_activation));
        fill_then(buffers, self.max_activation, |x| {
            self.fill_quantized(x, input)
        });
        Ok(self.infer(buffers, col, &mut |_| {}))
    }

    /// Writes the quantised, zero-point-shifted `input` into the packed
    /// point buffer `x`.
    pub(crate) fn fill_point(&self, x: &mut [i16], input: &[f32]) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            for i in values {
                x[layout.point(i)] = i16::from(q.quantize(input[i])) - i16::from(q.zero_point);
            }
        });
    }

    /// Writes the zero-point-shifted int8 input `input` into the packed
    /// point buffer `x`.
    pub(crate) fn fill_quantized(&self, x: &mut [i16], input: &[i8]) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            for i in values {
                x[layout.point(i)] = i16::from(input[i]) - i16::from(q.zero_point);
            }
        });
    }

    /// Runs inference in `buffers` (two packed point buffers) and `col`;
    /// `fill` writes the zero-point-shifted input, packed, into the first.
    #[inline(always)]
    pub(crate) fn predict_in(
        &self,
        buffers: &mut [i16],
        col: &mut [i16],
        fill: impl FnOnce(&mut [i16]),
    ) -> Prediction {
        fill_then(buffers, self.max_activation, fill);
        self.infer(buffers, col, &mut |_| {})
    }

    /// The layers of [`Model::predict_in`], once per kernel choice (not
    /// inlined into every caller: code size); `mark(i)` as layer `i` ends.
    #[inline(never)]
    fn infer(
        &self,
        buffers: &mut [i16],
        col: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Prediction {
        let (mut src, mut dst) = buffers.split_at_mut(Point::packed_len(self.max_activation));
        let (hidden, last) = self.split_last();
        for (i, layer) in hidden.iter().enumerate() {
            if let Output::Requantize(rq) = layer.params().output {
                let mut sink = Requantized {
                    out: &mut *dst,
                    layout: self.layout(i + 1),
                    rq,
                };
                self.run_layer::<Point, _>(i, src, col, &mut sink);
            }
            core::mem::swap(&mut src, &mut dst);
            mark(i);
        }
        let mut logits = Collected(Logits::new());
        layer::dense::run::<K, Point, _>(last, src, &mut logits);
        let logits = logits.0;
        mark(hidden.len());
        Prediction {
            class: argmax(&logits),
            logits,
        }
    }

    /// Propagates the box that `fill` writes (packed interval form) through
    /// the hidden layers: afterwards `ws.front` holds the last hidden
    /// layer's bounds, packed, and `ws.back` is free.
    #[inline(always)]
    pub(crate) fn bound(
        &self,
        ws: &mut Workspace<'_>,
        fill: impl FnOnce(&mut [i16]),
        mark: &mut dyn FnMut(usize),
    ) {
        fill(ws.front);
        self.propagate(ws, mark);
    }

    /// The layers of [`Model::bound`], once per kernel choice; `mark(i)` as
    /// layer `i` ends.
    #[inline(never)]
    fn propagate(&self, ws: &mut Workspace<'_>, mark: &mut dyn FnMut(usize)) {
        let (hidden, _) = self.split_last();
        for (i, layer) in hidden.iter().enumerate() {
            if let Output::Requantize(rq) = layer.params().output {
                let mut sink = Requantized {
                    out: &mut *ws.back,
                    layout: self.layout(i + 1),
                    rq,
                };
                self.run_layer::<Interval, _>(i, ws.front, ws.col, &mut sink);
            }
            core::mem::swap(&mut ws.front, &mut ws.back);
            mark(i);
        }
    }

    /// Runs hidden layer `i` of either kind in domain `D` over the packed
    /// input `src`, with `col` as the convolution's column.
    fn run_layer<D: Domain, S: Sink<D::Acc>>(
        &self,
        i: usize,
        src: &[i16],
        col: &mut [i16],
        sink: &mut S,
    ) {
        match &self.desc.layers[i] {
            Layer::Dense(d) => layer::dense::run::<K, D, S>(d, src, sink),
            Layer::Conv2d(c) => {
                layer::conv::run::<K, D, S>(c, self.shapes[i], self.shapes[i + 1], src, col, sink)
            }
        }
    }

    /// The layout of layer `i`'s input buffer: natural order for a
    /// convolution (which gathers its columns from it), packed for a Dense
    /// layer (whose kernels read it directly).
    pub(crate) fn layout(&self, i: usize) -> Layout {
        match self.desc.layers.get(i) {
            Some(Layer::Conv2d(_)) => Layout::Natural,
            _ => Layout::Packed,
        }
    }

    /// Hidden layers and the final (logits) Dense layer.
    pub(crate) fn split_last(&self) -> (&[Layer<'a>], &Dense<'a>) {
        let hidden = &self.desc.layers[..self.desc.layers.len() - 1];
        (hidden, &self.logits_layer)
    }

    /// Calls `f(c, quantizer, values)` for every input channel `c`, in
    /// order, with its quantiser and the indices of its input values.
    #[inline(always)]
    pub(crate) fn for_each_channel(&self, mut f: impl FnMut(usize, &Quantizer, Range<usize>)) {
        let input = &self.desc.header.input;
        let per_channel = input.channel_len();
        for c in 0..usize::from(input.channels) {
            // Every channel has a valid quantiser in a loaded model.
            if let Some(q) = input.quantizer(c) {
                f(c, &q, c * per_channel..(c + 1) * per_channel);
            }
        }
    }

    /// Checks an input's length and that every value is finite and in its
    /// channel's domain.
    pub(crate) fn check_input(&self, input: &[f32]) -> Result<(), Error> {
        if input.len() != self.input_len() {
            return Err(Error::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let mut error = None;
        self.for_each_channel(|_, q, values| {
            for index in values {
                let x = input[index];
                if error.is_none() && !x.is_finite() {
                    error = Some(Error::NonFiniteInput { index });
                } else if error.is_none() && !q.contains(x) {
                    error = Some(Error::InputOutOfDomain { index });
                }
            }
        });
        error.map_or(Ok(()), Err)
    }

    /// The first `needed` elements of `scratch` after the one that starts
    /// it on a 4-byte boundary (what the DSP kernels' wide loads need).
    pub(crate) fn take_scratch<'s>(
        &self,
        scratch: &'s mut [i16],
        needed: usize,
    ) -> Result<&'s mut [i16], Error> {
        let got = scratch.len();
        let skip = usize::from(!(scratch.as_ptr() as usize).is_multiple_of(4));
        scratch
            .get_mut(skip..needed - 1 + skip)
            .ok_or(Error::ScratchTooSmall { needed, got })
    }

    /// The interval workspace inside an aligned certify scratch.
    pub(crate) fn workspace<'s>(&self, scratch: &'s mut [i16]) -> Workspace<'s> {
        let buffer = Interval::packed_len(self.max_activation);
        let (front, rest) = scratch.split_at_mut(buffer);
        let (back, col) = rest.split_at_mut(buffer);
        Workspace { front, back, col }
    }
}

/// A hidden layer's output stage: requantises every accumulator (a point,
/// or both bounds of an interval) into the next layer's input buffer.
struct Requantized<'o, 'a> {
    out: &'o mut [i16],
    layout: Layout,
    rq: Requantize<'a>,
}

impl Requantized<'_, '_> {
    #[inline(always)]
    fn requantize(&self, channel: usize, acc: i32) -> i16 {
        let rq = &self.rq;
        let q = requantize_checked(
            acc,
            le_i32(rq.multiplier, channel),
            rq.shift[channel],
            rq.zero_point,
            rq.min,
            rq.max,
        );
        i16::from(q)
    }
}

impl Sink<i32> for Requantized<'_, '_> {
    #[inline(always)]
    fn put(&mut self, index: usize, channel: usize, acc: i32) {
        let q = self.requantize(channel, acc);
        self.out[self.layout.point(index)] = q - i16::from(self.rq.zero_point);
    }
}

impl Sink<Span> for Requantized<'_, '_> {
    #[inline(always)]
    fn put(&mut self, index: usize, channel: usize, acc: Span) {
        let (lo, hi) = acc.bounds();
        let (lo, hi) = (self.requantize(channel, lo), self.requantize(channel, hi));
        self.out[self.layout.centre(index)] = lo + hi - 2 * i16::from(self.rq.zero_point);
        self.out[self.layout.radius(index)] = hi - lo;
    }
}

/// The logits layer's output stage: every accumulator, in order.
pub(crate) struct Collected<T>(pub heapless::Vec<T, MAX_CLASSES>);

impl Sink<i32> for Collected<i32> {
    #[inline(always)]
    fn put(&mut self, _: usize, _: usize, acc: i32) {
        let _ = self.0.push(acc);
    }
}

impl Sink<Span> for Collected<i32> {
    /// The doubled centre: what picks the class to certify.
    #[inline(always)]
    fn put(&mut self, _: usize, _: usize, acc: Span) {
        let _ = self.0.push(acc.mid2);
    }
}

/// Runs `fill` on the first packed point buffer of `buffers`.
fn fill_then(buffers: &mut [i16], max_activation: usize, fill: impl FnOnce(&mut [i16])) {
    fill(&mut buffers[..Point::packed_len(max_activation)]);
}

/// Index of the largest value, the lowest index on ties.
pub(crate) fn argmax(values: &[i32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Checks every input channel's quantiser and certified eps.
fn validate_input(header: &Header<'_>) -> Result<(), Error> {
    let input = &header.input;
    let channels = usize::from(input.channels);
    if input.quantizers.len() != channels * Quantizer::ENCODED_LEN
        || header.certification.eps.len() != channels * 4
    {
        return Err(Error::Malformed);
    }
    for channel in 0..channels {
        let valid = input.quantizer(channel).is_some_and(|q| q.is_valid())
            && header
                .certification
                .eps(channel)
                .is_some_and(|eps| eps.is_finite() && eps >= 0.0);
        if !valid {
            return Err(Error::InvalidInputSpec { channel });
        }
    }
    Ok(())
}

/// A name list is empty, or `count` non-empty names separated by `,`.
fn validate_names(list: &str, count: usize) -> Result<(), ()> {
    match format::names(list) {
        None => Ok(()),
        Some(names) => {
            let mut seen = 0;
            for name in names {
                if name.is_empty() {
                    return Err(());
                }
                seen += 1;
            }
            (seen == count).then_some(()).ok_or(())
        }
    }
}

/// Checks one layer's parameter lengths, quantisation ranges and the
/// accumulator headroom the interval arithmetic needs.
fn validate_params(
    index: usize,
    layer: &Layer<'_>,
    input: Shape,
    output: Shape,
) -> Result<(), Error> {
    let params = layer.params();
    let (channels, fan_in) = match layer {
        Layer::Dense(d) => (d.outputs as usize, d.inputs as usize),
        Layer::Conv2d(c) => (usize::from(c.out_channels), layer::conv::fan_in(c)),
    };
    let shape_err = Error::ShapeMismatch { layer: index };
    if channels == 0 || fan_in == 0 || output.channels != channels || input.is_empty() {
        return Err(shape_err);
    }
    if fan_in > crate::MAX_ACTIVATION {
        return Err(Error::UnsupportedSize);
    }
    let weights = channels.checked_mul(fan_in).ok_or(shape_err)?;
    if params.weights.len() != weights || params.bias.len() != 4 * channels {
        return Err(shape_err);
    }
    if let Output::Requantize(rq) = params.output {
        if rq.multiplier.len() != 4 * channels || rq.shift.len() != channels {
            return Err(shape_err);
        }
        let bad_quant = Error::InvalidQuantization { layer: index };
        if rq.min > rq.max || !(rq.min..=rq.max).contains(&rq.zero_point) {
            return Err(bad_quant);
        }
        for ch in 0..channels {
            if le_i32(rq.multiplier, ch) < 0 || !(1..=62).contains(&rq.shift[ch]) {
                return Err(bad_quant);
            }
        }
    }
    // Headroom: with L = |bias| + 255 * sum |w|, every accumulator of the
    // doubled centre/radius form, and every partial sum of one, stays
    // within 3 L, which must fit in i32.
    for (ch, row) in params.weights.chunks_exact(fan_in).enumerate() {
        let abs_sum: i64 = row
            .iter()
            .map(|&w| i64::from((w as i8).unsigned_abs()))
            .sum();
        let headroom = i64::from(le_i32(params.bias, ch)).abs() + 255 * abs_sum;
        if 3 * headroom > i64::from(i32::MAX) {
            return Err(Error::AccumulatorOverflow {
                layer: index,
                channel: ch,
            });
        }
    }
    Ok(())
}
