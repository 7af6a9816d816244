//! The output stages of a layer: what happens to its accumulators.

use crate::format::Requantize;
use crate::layer::{Layout, Sink, Span};
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
