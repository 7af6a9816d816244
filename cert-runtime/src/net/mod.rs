//! The validated network and its two integer passes over the caller's
//! scratch: inference (a point per activation) and the interval pass (a
//! box per activation). Certification, refinement and the decision build
//! on these; [`crate::Model`] is their public face.

mod scratch;
mod sink;
mod validate;

use core::marker::PhantomData;
use core::ops::Range;

use cert_kernels::{Kernels, Native};

#[cfg(feature = "refine")]
pub(crate) use scratch::SearchSpace;
pub(crate) use scratch::{ScratchPlan, Workspace};
pub(crate) use sink::Collected;

use crate::budget::Budget;
use crate::error::Error;
use crate::format::{Bounds, Dense, Layer, ModelDesc, Output};
use crate::layer::{self, Domain, Interval, Layout, Point, Shape, Sink};
use crate::limits::{MAX_CLASSES, MAX_LAYERS};
#[cfg(feature = "linear")]
use crate::linear::{self, Tail};
use crate::quantizer::Quantizer;
use sink::Requantized;

/// Logits of one input: one `i32` per class, in the last layer's units.
pub type Logits = heapless::Vec<i32, MAX_CLASSES>;

/// The predicted class and logits of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// Index of the largest logit (the lowest index on ties).
    pub class: usize,
    /// Logits, one per class.
    pub logits: Logits,
}

/// A validated network, borrowing its weights from the file's bytes, with
/// the kernels `K` its passes run.
#[derive(Debug, Clone)]
pub(crate) struct Net<'a, K> {
    pub desc: ModelDesc<'a>,
    /// The last layer, which produces the logits.
    logits: Dense<'a>,
    /// `shapes[i]` is the input of layer `i`; the last entry the logits'.
    pub shapes: heapless::Vec<Shape, { MAX_LAYERS + 1 }>,
    pub plan: ScratchPlan,
    /// The last hidden layer, when the model asks for linear bounds and
    /// they apply to it.
    #[cfg(feature = "linear")]
    pub tail: Option<Tail>,
    kernels: PhantomData<K>,
}

impl<'a> Net<'a, Native> {
    /// Validates a decoded description (see `validate`).
    pub fn new(desc: ModelDesc<'a>) -> Result<Self, Error> {
        let geometry = validate::validate(&desc)?;
        let plan = ScratchPlan {
            activation: geometry.max_activation,
            column: geometry.max_column,
            inputs: geometry.shapes[0].len(),
            linear: 0,
        };
        let net = Net {
            desc,
            logits: geometry.logits,
            shapes: geometry.shapes,
            plan,
            #[cfg(feature = "linear")]
            tail: None,
            kernels: PhantomData,
        };
        let bounds = net.desc.header.certification.bounds;
        Ok(net.with_bounds(bounds))
    }
}

impl<'a, K: Kernels> Net<'a, K> {
    /// The same network bounding margins by `bounds` (linear bounds apply
    /// when the last hidden layer is Dense; they take scratch).
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.desc.header.certification.bounds = bounds;
        #[cfg(feature = "linear")]
        {
            self.tail = match bounds {
                Bounds::Linear => Tail::of(&self.desc.layers),
                Bounds::Interval => None,
            };
            self.plan.linear = self.tail.map_or(0, |t| {
                linear::SCRATCH_PER_NEURON * self.desc.layers[t.layer].out_channels()
            });
        }
        self
    }

    /// The same network computing with the kernels `L`.
    pub fn with_kernels<L: Kernels>(self) -> Net<'a, L> {
        Net {
            desc: self.desc,
            logits: self.logits,
            shapes: self.shapes,
            plan: self.plan,
            #[cfg(feature = "linear")]
            tail: self.tail,
            kernels: PhantomData,
        }
    }

    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.plan.inputs
    }

    /// Number of input channels.
    pub fn input_channels(&self) -> usize {
        usize::from(self.desc.header.input.channels)
    }

    /// Hidden layers and the final (logits) Dense layer.
    pub fn split_last(&self) -> (&[Layer<'a>], &Dense<'a>) {
        let hidden = &self.desc.layers[..self.desc.layers.len() - 1];
        (hidden, &self.logits)
    }

    /// The layout of layer `i`'s input buffer: natural order for a
    /// convolution (which gathers its columns from it), packed for a Dense
    /// layer (whose kernels read it directly).
    pub fn layout(&self, i: usize) -> Layout {
        match self.desc.layers.get(i) {
            Some(Layer::Conv2d(_)) => Layout::Natural,
            _ => Layout::Packed,
        }
    }

    /// Calls `f(c, quantizer, values)` for every input channel `c`, in
    /// order, with its quantiser and the indices of its input values.
    #[inline(always)]
    pub fn for_each_channel(&self, mut f: impl FnMut(usize, &Quantizer, Range<usize>)) {
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
    pub fn check_input(&self, input: &[f32]) -> Result<(), Error> {
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

    /// Writes the quantised, zero-point-shifted `input` into the packed
    /// point buffer `x`.
    pub fn fill_point(&self, x: &mut [i16], input: &[f32]) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            for i in values {
                x[layout.point(i)] = i16::from(q.quantize(input[i])) - i16::from(q.zero_point);
            }
        });
    }

    /// Writes the zero-point-shifted int8 input `input` into the packed
    /// point buffer `x`.
    pub fn fill_quantized(&self, x: &mut [i16], input: &[i8]) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            for i in values {
                x[layout.point(i)] = i16::from(input[i]) - i16::from(q.zero_point);
            }
        });
    }

    /// Writes the integer box of `input` within `budget` (both checked by
    /// the caller) into the packed interval buffer `cr`.
    pub fn fill_real_box(&self, cr: &mut [i16], input: &[f32], budget: Budget<'_>) {
        let layout = self.layout(0);
        self.for_each_channel(|c, q, values| {
            let eps = budget.eps(c).unwrap_or(0.0);
            let zero = 2 * i16::from(q.zero_point);
            for i in values {
                let (lo, hi) = q.quantize_box(input[i], eps).unwrap_or((0, 0));
                let (lo, hi) = (i16::from(lo), i16::from(hi));
                cr[layout.centre(i)] = lo + hi - zero;
                cr[layout.radius(i)] = hi - lo;
            }
        });
    }

    /// Writes the integer box whose bounds `bounds(i)` gives into the
    /// packed interval buffer `cr`.
    pub fn fill_integer_box(&self, cr: &mut [i16], bounds: impl Fn(usize) -> (i16, i16)) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            let zero = 2 * i16::from(q.zero_point);
            for i in values {
                let (lo, hi) = bounds(i);
                cr[layout.centre(i)] = lo + hi - zero;
                cr[layout.radius(i)] = hi - lo;
            }
        });
    }

    /// Runs inference in `buffers` (two packed point buffers) and `col`;
    /// `fill` writes the zero-point-shifted input, packed, into the first.
    /// `mark(0)` as the input is in, `mark(i + 1)` as layer `i` ends.
    #[inline(always)]
    pub fn predict_in(
        &self,
        buffers: &mut [i16],
        col: &mut [i16],
        fill: impl FnOnce(&mut [i16]),
        mark: &mut dyn FnMut(usize),
    ) -> Prediction {
        fill(&mut buffers[..Point::packed_len(self.plan.activation)]);
        mark(0);
        self.infer(buffers, col, mark)
    }

    /// The layers of [`Net::predict_in`], once per kernel choice (not
    /// inlined into every caller: code size); `mark(i + 1)` as layer `i`
    /// ends.
    #[inline(never)]
    fn infer(
        &self,
        buffers: &mut [i16],
        col: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Prediction {
        let (mut src, mut dst) = buffers.split_at_mut(Point::packed_len(self.plan.activation));
        let (hidden, last) = self.split_last();
        for (i, layer) in hidden.iter().enumerate() {
            if let Output::Requantize(rq) = layer.params().output {
                let mut sink = Requantized::new(&mut *dst, self.layout(i + 1), rq);
                self.run_layer::<Point, _>(i, src, col, &mut sink);
            }
            core::mem::swap(&mut src, &mut dst);
            mark(i + 1);
        }
        let mut logits = Collected(Logits::new());
        layer::dense::run::<K, Point, _>(last, src, &mut logits);
        let logits = logits.0;
        mark(hidden.len() + 1);
        Prediction {
            class: argmax(&logits),
            logits,
        }
    }

    /// Propagates the box that `fill` writes (packed interval form) through
    /// the hidden layers: afterwards `ws.front` holds the last hidden
    /// layer's bounds, packed, and `ws.back` is free.
    #[inline(always)]
    pub fn bound(
        &self,
        ws: &mut Workspace<'_>,
        fill: impl FnOnce(&mut [i16]),
        mark: &mut dyn FnMut(usize),
    ) {
        fill(ws.front);
        mark(0);
        self.propagate(ws, mark);
    }

    /// The layers of [`Net::bound`], once per kernel choice; `mark(i + 1)`
    /// as layer `i` ends.
    #[inline(never)]
    fn propagate(&self, ws: &mut Workspace<'_>, mark: &mut dyn FnMut(usize)) {
        let (hidden, _) = self.split_last();
        for (i, layer) in hidden.iter().enumerate() {
            if let Output::Requantize(rq) = layer.params().output {
                let mut sink = Requantized::new(&mut *ws.back, self.layout(i + 1), rq);
                self.run_layer::<Interval, _>(i, ws.front, ws.col, &mut sink);
            }
            core::mem::swap(&mut ws.front, &mut ws.back);
            mark(i + 1);
        }
    }

    /// Runs hidden layer `i` of either kind in domain `D` over the packed
    /// input `src`, with `col` as the convolution's column.
    #[cfg_attr(not(feature = "conv"), allow(unused_variables))]
    fn run_layer<D: Domain, S: Sink<D::Acc>>(
        &self,
        i: usize,
        src: &[i16],
        col: &mut [i16],
        sink: &mut S,
    ) {
        match &self.desc.layers[i] {
            Layer::Dense(d) => layer::dense::run::<K, D, S>(d, src, sink),
            #[cfg(feature = "conv")]
            Layer::Conv2d(c) => {
                D::conv::<K, S>(c, self.shapes[i], self.shapes[i + 1], src, col, sink)
            }
            // Validation refuses convolutions without the feature.
            #[cfg(not(feature = "conv"))]
            Layer::Conv2d(_) => {}
        }
    }

    /// The doubled centre logits of the box bounded by the packed interval
    /// features `cr` of the last layer.
    pub fn centre_logits(&self, cr: &[i16]) -> Logits {
        let mut centres = Collected(Logits::new());
        layer::dense::run::<K, Interval, _>(&self.logits, cr, &mut centres);
        centres.0
    }
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
