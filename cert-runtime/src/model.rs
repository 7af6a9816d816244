//! The public face of a loaded model: what it is (shape, classes, names,
//! budget), what scratch it needs, and the four things it does with one
//! input: predict, certify, refine, and decide (certify, then refine when
//! the model asks for it).

use cert_kernels::{Kernels, Native};

use crate::budget::Budget;
use crate::certify::{self, Certificate, Radius};
use crate::decide::{self, Buffers};
use crate::error::Error;
use crate::format::{self, Bounds, Header, Layer, ModelDesc};
use crate::layer::Shape;
use crate::net::{Net, Prediction};
use crate::quantizer::Quantizer;
use crate::refine::depth_needed;
#[cfg(feature = "refine")]
use crate::refine::{self, Trail};
use crate::verdict::Decision;

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
    net: Net<'a, K>,
}

impl<'a> Model<'a> {
    /// Loads and validates a model file. `bytes` can live in flash: weights
    /// are borrowed, nothing is copied.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::from_desc(format::decode(bytes)?)
    }

    /// Validates a decoded model description.
    pub fn from_desc(desc: ModelDesc<'a>) -> Result<Self, Error> {
        Ok(Model {
            net: Net::new(desc)?,
        })
    }
}

impl<'a, K: Kernels> Model<'a, K> {
    /// The same model computing with the kernels `L` (for instance the
    /// reference [`cert_kernels::Scalar`], to check the native ones).
    pub fn with_kernels<L: Kernels>(self) -> Model<'a, L> {
        Model {
            net: self.net.with_kernels(),
        }
    }

    /// The same model bounding margins by `bounds` instead of the way its
    /// file says (what `certnn certify --bounds` compares). Linear bounds
    /// take more scratch: the scratch lengths follow.
    pub fn with_bounds(self, bounds: Bounds) -> Model<'a, K> {
        Model {
            net: self.net.with_bounds(bounds),
        }
    }

    /// How the model bounds margins that the interval pass alone does not
    /// prove.
    pub fn bounds(&self) -> Bounds {
        self.header().certification.bounds
    }

    /// Header: input spec, certification spec, classes, names, description.
    pub fn header(&self) -> &Header<'a> {
        &self.net.desc.header
    }

    /// Layers in order.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.net.desc.layers
    }

    /// The decoded description (what an encoder writes back).
    pub fn desc(&self) -> &ModelDesc<'a> {
        &self.net.desc
    }

    /// Activation shapes: entry `i` is the input of layer `i`, the last entry the logits.
    pub fn shapes(&self) -> &[Shape] {
        &self.net.shapes
    }

    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.net.input_len()
    }

    /// Number of input channels (image planes, or sensor features).
    pub fn input_channels(&self) -> usize {
        self.net.input_channels()
    }

    /// The quantiser and domain of input channel `c`.
    pub fn quantizer(&self, c: usize) -> Option<Quantizer> {
        self.header().input.quantizer(c)
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        usize::from(self.header().classes)
    }

    /// The name of class `class`, when the model names its classes.
    pub fn class_name(&self, class: usize) -> Option<&'a str> {
        format::names(self.net.desc.header.class_names).and_then(|mut n| n.nth(class))
    }

    /// The name of input channel `c`, when the model names its channels.
    pub fn channel_name(&self, c: usize) -> Option<&'a str> {
        format::names(self.net.desc.header.input.names).and_then(|mut n| n.nth(c))
    }

    /// The perturbation budget the model was certified for: what the
    /// device certifies unless told otherwise.
    pub fn budget(&self) -> Budget<'a> {
        Budget::encoded(self.net.desc.header.certification.eps)
    }

    /// Boxes refinement may bound per input by default (0: none).
    pub fn refine_boxes(&self) -> u32 {
        self.header().certification.refine_boxes
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| l.params().weights.len() + l.params().channels())
            .sum()
    }

    /// Scratch `i16` elements [`Model::predict`] needs.
    pub fn predict_scratch_len(&self) -> usize {
        self.net.plan.predict_len()
    }

    /// Scratch `i16` elements [`Model::certify`] and
    /// [`Model::certified_radius`] need.
    pub fn certify_scratch_len(&self) -> usize {
        self.net.plan.certify_len()
    }

    /// Scratch bytes [`Model::certify`] needs (`2 * certify_scratch_len()`).
    pub fn certify_scratch_bytes(&self) -> usize {
        2 * self.certify_scratch_len()
    }

    /// Scratch `i16` elements [`Model::refine`] needs: the certification
    /// scratch plus 4 per input value.
    pub fn refine_scratch_len(&self) -> usize {
        self.net.plan.refine_len()
    }

    /// Scratch `i16` elements [`Model::decide`] needs: refinement's when
    /// the model refines, certification's otherwise.
    pub fn decide_scratch_len(&self) -> usize {
        match self.refine_boxes() {
            0 => self.certify_scratch_len(),
            _ => self.refine_scratch_len(),
        }
    }

    /// Trail levels a refinement with `max_boxes` boxes may need on this
    /// model (`min(max_boxes - 1, 8 * input_len)`): a [`Trail`] of at least
    /// this depth gives verdicts that do not depend on its depth, and a
    /// shallower one is refused.
    pub fn refine_depth(&self, max_boxes: u32) -> usize {
        depth_needed(max_boxes, self.input_len())
    }

    /// Predicts the class of a real-valued input (CHW order).
    pub fn predict(&self, input: &[f32], scratch: &mut [i16]) -> Result<Prediction, Error> {
        self.predict_marked(input, scratch, &mut |_| {})
    }

    /// [`Model::predict`], calling `mark(0)` as the input is checked and
    /// quantised, and `mark(i + 1)` as each layer `i` finishes (the last
    /// one is the logits layer): what a profiler needs to time the input
    /// stage and the layers on a device.
    pub fn predict_marked(
        &self,
        input: &[f32],
        scratch: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Result<Prediction, Error> {
        self.net.check_input(input)?;
        let p = self.net.plan.points(scratch)?;
        Ok(self
            .net
            .predict_in(p.buffers, p.col, |x| self.net.fill_point(x, input), mark))
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
        let p = self.net.plan.points(scratch)?;
        let fill = |x: &mut [i16]| self.net.fill_quantized(x, input);
        Ok(self.net.predict_in(p.buffers, p.col, fill, &mut |_| {}))
    }

    /// Certifies a real-valued input: proves, or fails to prove, that every
    /// input within `budget` (L-infinity per channel, in real units, exactly,
    /// intersected with the input domain) gets the class the model predicts
    /// for `input`. [`Model::budget`] is the budget the model was certified
    /// for.
    pub fn certify(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        scratch: &mut [i16],
    ) -> Result<Certificate, Error> {
        certify::certify(&self.net, input, budget, scratch, &mut |_| {})
    }

    /// [`Model::certify`], calling `mark(0)` as the input box is checked
    /// and quantised, and `mark(i + 1)` as the interval pass finishes each
    /// layer `i` (the last one is the margins of the logits layer; the
    /// inference an uncertified input also runs comes after it): what a
    /// profiler needs to time the input stage and the layers on a device.
    pub fn certify_marked(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        scratch: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Result<Certificate, Error> {
        certify::certify(&self.net, input, budget, scratch, mark)
    }

    /// Certifies an integer box `[lo, hi]` around the quantised point
    /// `point` (`lo <= point <= hi` elementwise).
    pub fn certify_quantized(
        &self,
        point: &[i8],
        lo: &[i8],
        hi: &[i8],
        scratch: &mut [i16],
    ) -> Result<Certificate, Error> {
        certify::certify_quantized(&self.net, point, lo, hi, scratch)
    }

    /// The largest `t` in `[0, max]` at which `input` is certified within
    /// `direction.scaled(t)`: with `Budget::uniform(1.0)`, the largest
    /// certified eps; with [`Model::budget`], the largest certified
    /// multiple of the model's own budget (an exact bisection over the
    /// `f32` values, at most 32 certifications).
    pub fn certified_radius(
        &self,
        input: &[f32],
        direction: Budget<'_>,
        max: f32,
        scratch: &mut [i16],
    ) -> Result<Radius, Error> {
        certify::certified_radius(&self.net, input, direction, max, scratch)
    }

    /// Certifies `input` within `budget` like [`Model::certify`], and when
    /// that fails, refines: bisects the integer box, bounding at most
    /// `max_boxes` boxes (the whole box counts as one; even with 1 the
    /// box's midpoint is tried). A refuted input leaves in
    /// `counterexample` an input within the budget (exactly) and the domain
    /// that the model classifies differently. `trail` must hold
    /// [`Model::refine_depth`]`(max_boxes)` levels. (`refine` feature.)
    #[cfg(feature = "refine")]
    pub fn refine<const N: usize>(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        max_boxes: u32,
        scratch: &mut [i16],
        trail: &mut Trail<N>,
        counterexample: &mut [f32],
    ) -> Result<Decision, Error> {
        refine::refine(
            &self.net,
            input,
            budget,
            max_boxes,
            scratch,
            trail,
            counterexample,
        )
    }

    /// **The decision** about `input` at the model's own spec: certified at
    /// [`Model::budget`], and refined with [`Model::refine_boxes`] boxes
    /// when the interval pass does not prove the class and the model
    /// refines. What a device acts on ([`Decision::proven`]).
    pub fn decide<const N: usize>(
        &self,
        input: &[f32],
        buffers: &mut Buffers<'_, N>,
    ) -> Result<Decision, Error> {
        self.decide_within(input, self.budget(), self.refine_boxes(), buffers)
    }

    /// [`Model::decide`] at another budget and box budget (0: certify only).
    pub fn decide_within<const N: usize>(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        max_boxes: u32,
        buffers: &mut Buffers<'_, N>,
    ) -> Result<Decision, Error> {
        decide::decide(&self.net, input, budget, max_boxes, buffers)
    }
}
