//! The output stages of a layer: what happens to its accumulators.

use crate::format::Requantize;
use cert_kernels::point_slot;

use crate::layer::{Layout, ROWS_PER_CALL, Sink, Span};
use crate::limits::MAX_CLASSES;
use crate::requant::requantize_checked;

/// A hidden layer's output stage: requantises every accumulator (a point,
/// or both bounds of an interval) into the next layer's input buffer.
pub(crate) struct Requantized<'o, 'a> {
    pub out: &'o mut [i16],
    pub layout: Layout,
    pub rq: Requantize<'a>,
}

impl Requantized<'_, '_> {
    #[inline(always)]
    fn requantize(&self, channel: usize, acc: i32) -> i16 {
        let rq = &self.rq;
        let q = requantize_checked(
            acc,
            rq.multiplier(channel),
            rq.shift(channel),
            rq.zero_point,
            rq.min,
            rq.max,
        );
        i16::from(q)
    }
}

impl Sink<i32> for Requantized<'_, '_> {
    /// One accumulator: a run of one (the layers put runs).
    #[inline(always)]
    fn put(&mut self, index: usize, channel: usize, acc: i32) {
        self.put_run(index, 1, channel, &[acc]);
    }

    /// [`Sink::put`] for a run of channels in two passes: requantise into a
    /// local buffer (one out-of-line loop, its values in registers), then
    /// store with the layout decided once.
    #[inline(always)]
    fn put_run(&mut self, first: usize, step: usize, channel: usize, accs: &[i32]) {
        let mut values = [0i16; ROWS_PER_CALL];
        let chunks = accs.chunks(ROWS_PER_CALL).enumerate();
        for ((i, chunk), at) in chunks.zip((first..).step_by(ROWS_PER_CALL * step)) {
            let values = &mut values[..chunk.len()];
            requantize_run(&self.rq, channel + i * ROWS_PER_CALL, chunk, values);
            match self.layout {
                Layout::Packed => {
                    for (i, &v) in values.iter().enumerate() {
                        self.out[point_slot(at + i * step)] = v;
                    }
                }
                Layout::Natural => {
                    for (i, &v) in values.iter().enumerate() {
                        self.out[at + i * step] = v;
                    }
                }
            }
        }
    }
}

/// `values[i]` = accumulator `accs[i]` of channel `channel + i`,
/// requantised and shifted by the zero point (the activation the next
/// layer reads); panics, as [`Sink::put`] would, past the layer's channels.
#[inline(never)]
fn requantize_run(rq: &Requantize<'_>, channel: usize, accs: &[i32], values: &mut [i16]) {
    let n = accs.len();
    let (multipliers, _) = rq.multiplier[4 * channel..4 * (channel + n)].as_chunks::<4>();
    let shifts = &rq.shift[channel..channel + n];
    let zero = i16::from(rq.zero_point);
    let params = multipliers.iter().zip(shifts);
    for ((value, &acc), (m, &shift)) in values.iter_mut().zip(accs).zip(params) {
        let q = requantize_checked(
            acc,
            i32::from_le_bytes(*m),
            shift,
            rq.zero_point,
            rq.min,
            rq.max,
        );
        *value = i16::from(q) - zero;
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
