//! The output stages of a layer: what happens to its accumulators.

use crate::format::Requantize;
#[cfg(feature = "conv")]
use cert_kernels::QUAD;
use cert_kernels::point_slot;

use crate::layer::{Layout, ROWS_PER_CALL, Sink, Span};
use crate::limits::MAX_CLASSES;
use crate::requant::requantize_centred;
#[cfg(feature = "conv")]
use crate::requant::{all_narrow, requantize_narrow};

/// A hidden layer's output stage: requantises every accumulator (a point,
/// or both bounds of an interval) into the next layer's input buffer.
pub(crate) struct Requantized<'o, 'a> {
    out: &'o mut [i16],
    layout: Layout,
    rq: Requantize<'a>,
    /// Whether every shift of the layer is narrow (`all_narrow`): read
    /// once, by the first run of quads (the loops that use it).
    #[cfg(feature = "conv")]
    narrow: Option<bool>,
}

impl<'o, 'a> Requantized<'o, 'a> {
    /// The output stage that requantises with `rq` into `out`, laid out as
    /// `layout`.
    pub fn new(out: &'o mut [i16], layout: Layout, rq: Requantize<'a>) -> Self {
        Requantized {
            out,
            layout,
            rq,
            #[cfg(feature = "conv")]
            narrow: None,
        }
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

    /// [`Sink::put_quads`] in two passes: add the biases and requantise
    /// every quad in place (one out-of-line loop, each channel's parameters
    /// loaded once for all four pixels), then store with the layout
    /// decided once.
    #[cfg(feature = "conv")]
    #[inline(always)]
    fn put_quads(
        &mut self,
        (first, step, last): (usize, usize, usize),
        channel: usize,
        biases: &[[u8; 4]],
        sums: &mut [[i32; QUAD]],
    ) {
        let narrow = *self.narrow.get_or_insert_with(|| all_narrow(self.rq.shift));
        requantize_quads(&self.rq, narrow, channel, biases, sums);
        let at = (first, step, last);
        match self.layout {
            Layout::Natural => store_quads(self.out, sums, at, |i| i),
            Layout::Packed => store_quads(self.out, sums, at, point_slot),
        }
    }
}

/// The requantisation parameters of channels `channel..channel + n`, and
/// the bounds of [`requantize_centred`]; panics, as [`Sink::put`] would,
/// past the layer's channels.
#[inline(always)]
fn channel_params<'r>(
    rq: &'r Requantize<'_>,
    channel: usize,
    n: usize,
) -> (impl Iterator<Item = (i32, u8)> + 'r, i32, i32) {
    let (multipliers, _) = rq.multiplier[4 * channel..4 * (channel + n)].as_chunks::<4>();
    let shifts = &rq.shift[channel..channel + n];
    let zero = i32::from(rq.zero_point);
    let params = multipliers.iter().zip(shifts);
    let params = params.map(|(m, &shift)| (i32::from_le_bytes(*m), shift));
    (params, i32::from(rq.min) - zero, i32::from(rq.max) - zero)
}

/// `values[i]` = accumulator `accs[i]` of channel `channel + i`,
/// requantised less the zero point (the activation the next layer reads).
/// Out of line, so that its loop keeps the parameters in registers.
#[inline(never)]
fn requantize_run(rq: &Requantize<'_>, channel: usize, accs: &[i32], values: &mut [i16]) {
    let (params, lo, hi) = channel_params(rq, channel, values.len());
    for ((value, &acc), (m, shift)) in values.iter_mut().zip(accs).zip(params) {
        *value = requantize_centred(acc, m, shift, lo, hi) as i16;
    }
}

/// Every quad of sums of `sums` (channels `channel..channel +
/// sums.len()`) plus its channel's bias, requantised in place, less the
/// zero point; with [`requantize_narrow`] where the layer's shifts are all
/// `narrow`. Out of line, so that its loop keeps the parameters in
/// registers.
#[cfg(feature = "conv")]
#[inline(never)]
fn requantize_quads(
    rq: &Requantize<'_>,
    narrow: bool,
    channel: usize,
    biases: &[[u8; 4]],
    sums: &mut [[i32; QUAD]],
) {
    let (params, lo, hi) = channel_params(rq, channel, sums.len());
    let quads = sums.iter_mut().zip(params).zip(biases);
    let each = |requantize: fn(i32, i32, u8, i32, i32) -> i32| {
        for ((quad, (m, shift)), b) in quads {
            let bias = i32::from_le_bytes(*b);
            let [w, x, y, z] = *quad;
            *quad = [
                requantize(w + bias, m, shift, lo, hi),
                requantize(x + bias, m, shift, lo, hi),
                requantize(y + bias, m, shift, lo, hi),
                requantize(z + bias, m, shift, lo, hi),
            ];
        }
    };
    if narrow {
        each(requantize_narrow);
    } else {
        each(requantize_centred);
    }
}

/// Stores the requantised quads `values`: column `j` of quad `i` at output
/// `first + i * step + min(j, last)`, through `slot` (the layout). Columns
/// past `last` repeat pixel `last`, so storing them again is harmless: no
/// branch per value.
#[cfg(feature = "conv")]
#[inline(always)]
fn store_quads(
    out: &mut [i16],
    values: &[[i32; QUAD]],
    (first, step, last): (usize, usize, usize),
    slot: impl Fn(usize) -> usize,
) {
    let (b, c, d) = (last.min(1), last.min(2), last.min(3));
    for (&[w, x, y, z], at) in values.iter().zip((first..).step_by(step)) {
        out[slot(at + d)] = z as i16;
        out[slot(at + c)] = y as i16;
        out[slot(at + b)] = x as i16;
        out[slot(at)] = w as i16;
    }
}

impl Sink<Span> for Requantized<'_, '_> {
    /// One interval: a run of one (the layers put runs).
    #[inline(always)]
    fn put(&mut self, index: usize, channel: usize, acc: Span) {
        self.put_run(index, 1, channel, &[acc]);
    }

    /// Both bounds of every interval of a run, requantised with the
    /// channel's parameters, as the doubled centre and the radius of the
    /// next layer's input: with `lo`, `hi` less the zero point `z`, `(lo +
    /// z) + (hi + z) - 2 z = lo + hi` and `hi - lo`. Out of line: dense
    /// layers and convolutions share one copy.
    #[inline(never)]
    fn put_run(&mut self, first: usize, step: usize, channel: usize, spans: &[Span]) {
        let (params, lo, hi) = channel_params(&self.rq, channel, spans.len());
        // Locals: a store through `self.out` would otherwise reload them.
        let (out, layout) = (&mut *self.out, self.layout);
        let at = (first..).step_by(step);
        for ((span, (m, shift)), at) in spans.iter().zip(params).zip(at) {
            let (a, b) = span.bounds();
            let a = requantize_centred(a, m, shift, lo, hi) as i16;
            let b = requantize_centred(b, m, shift, lo, hi) as i16;
            out[layout.centre(at)] = a + b;
            out[layout.radius(at)] = b - a;
        }
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
