//! The relaxation of one neuron of the tail layer: the lines below and
//! above the device's requantisation on the neuron's accumulator interval,
//! on the grid `2^-F` (the argument is in the parent module's
//! documentation).

use crate::format::Requantize;

/// One neuron of the tail layer on its accumulator interval `[al, au]`,
/// values scaled by `2^s` (exact integers).
pub(super) struct Neuron {
    al: i128,
    au: i128,
    /// The multiplier `M` (`m = M / 2^s`).
    multiplier: i128,
    shift: u8,
    /// Output bounds, zero-point shifted.
    lo: i128,
    hi: i128,
    fraction: u8,
}

/// A line `(slope * a + offset) / 2^F` of the accumulator `a`.
#[derive(Clone, Copy)]
pub(super) struct Line {
    pub(super) slope: i32,
    pub(super) offset: i128,
}

impl Line {
    pub(super) fn constant(value: i32, f: u8) -> Line {
        Line {
            slope: 0,
            offset: i128::from(value) << f,
        }
    }
}

impl Neuron {
    pub(super) fn of(rq: &Requantize<'_>, k: usize, al: i32, au: i32, fraction: u8) -> Neuron {
        let zero = i128::from(rq.zero_point);
        Neuron {
            al: al.into(),
            au: au.into(),
            multiplier: rq.multiplier(k).into(),
            shift: rq.shift(k),
            lo: i128::from(rq.min) - zero,
            hi: i128::from(rq.max) - zero,
            fraction,
        }
    }

    /// `a m + d / 2` scaled by `2^s`, for `d` in `{-1, 1}`.
    fn scaled(&self, a: i128, d: i128) -> i128 {
        a * self.multiplier + d * (1i128 << (self.shift - 1))
    }

    /// The better lower line: the chord of `φ(a) = min(a m - 1/2, hi)` or
    /// the constant `gl = g(al)`.
    pub(super) fn lower(&self, gl: i32) -> Line {
        let top = self.hi << self.shift;
        let y1 = self.scaled(self.al, -1).min(top);
        let y2 = self.scaled(self.au, -1).min(top);
        // Average of the chord over [al, au] against gl (both scaled by 2^s).
        if y1 + y2 > 2 * (i128::from(gl) << self.shift) {
            self.onto_grid(y1, y2, false)
        } else {
            Line::constant(gl, self.fraction)
        }
    }

    /// The better upper line: the chord of `ψ(a) = max(a m + 1/2, lo)` or
    /// the constant `gu = g(au)`.
    pub(super) fn upper(&self, gu: i32) -> Line {
        let bottom = self.lo << self.shift;
        let y1 = self.scaled(self.al, 1).max(bottom);
        let y2 = self.scaled(self.au, 1).max(bottom);
        if y1 + y2 < 2 * (i128::from(gu) << self.shift) {
            self.onto_grid(y1, y2, true)
        } else {
            Line::constant(gu, self.fraction)
        }
    }

    /// The line through `(al, y1 / 2^s)` and `(au, y2 / 2^s)` on the grid
    /// `2^-F`: slope rounded toward zero, offset rounded down (a lower
    /// line) or up (`upper`) at both ends, so the grid line stays on its
    /// side of the exact one over `[al, au]` (`al < au`: the box is not one
    /// value).
    fn onto_grid(&self, y1: i128, y2: i128, upper: bool) -> Line {
        let (f, s) = (self.fraction, self.shift);
        // Any integer slope gives a valid line (the offset below is exact
        // for it), so the slope is only estimated, in f32: an i128 division
        // would cost kilobytes of code on the device. Chords rise by at
        // most `m`, so it is in `0..=2^22` (Tail::of).
        let rise = (y2 - y1) as f32 * pow2(f);
        let run = (self.au - self.al) as f32 * pow2(s);
        let slope = i128::from((rise / run) as i32);
        // offset at each end: (y 2^F - slope a 2^s) / 2^s.
        let end = |y: i128, a: i128| (y << f) - ((slope * a) << s);
        let (e1, e2) = (end(y1, self.al), end(y2, self.au));
        let offset = match upper {
            false => e1.min(e2) >> s,
            true => -((-e1.max(e2)) >> s),
        };
        Line {
            slope: slope as i32,
            offset,
        }
    }
}

/// `2^e` as an `f32` (exact: `e <= 62`).
fn pow2(e: u8) -> f32 {
    f32::from_bits((127 + u32::from(e)) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requant::requantize;

    /// xorshift64: deterministic test data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }
    }

    /// Every line a neuron offers is on its side of the device's own
    /// requantisation at EVERY integer accumulator of the interval, exactly
    /// (`slope a + offset` against `g(a) 2^F` in integers).
    #[test]
    fn lines_bound_the_requantisation_at_every_accumulator() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut chords = 0;
        for _ in 0..20_000 {
            let shift = rng.range(9, 44) as u8;
            let multiplier = rng.range(1 << 30, (1 << 31) - 1) as i32;
            let zero_point = rng.range(-128, 0) as i8;
            let min = if rng.next().is_multiple_of(2) {
                zero_point
            } else {
                -128
            };
            let max = if rng.next().is_multiple_of(4) {
                rng.range(i64::from(zero_point), 127) as i8
            } else {
                127
            };
            // Accumulators around where the output moves: a m ~ +-300.
            let reach = (300i128 << shift) / i128::from(multiplier);
            let reach = i64::try_from(reach.min(1 << 30)).unwrap().max(2);
            let al = rng.range(-reach, reach) as i32;
            let au = (i64::from(al) + rng.range(1, 400)).min(i64::from(i32::MAX)) as i32;
            let fraction = shift.saturating_sub(9);
            let g = |a: i32| {
                i32::from(requantize(a, multiplier, shift, zero_point, min, max).unwrap())
                    - i32::from(zero_point)
            };
            let (gl, gu) = (g(al), g(au));
            if gl == gu {
                continue;
            }
            let bytes_m = multiplier.to_le_bytes();
            let shifts = [shift];
            let rq = Requantize {
                multiplier: &bytes_m[..],
                shift: &shifts[..],
                zero_point,
                min,
                max,
                scale: 1.0,
            };
            let neuron = Neuron::of(&rq, 0, al, au, fraction);
            let (lower, upper) = (neuron.lower(gl), neuron.upper(gu));
            chords += usize::from(lower.slope != 0) + usize::from(upper.slope != 0);
            let step = ((au - al) / 200).max(1);
            let mut a = al;
            loop {
                let exact = i128::from(g(a)) << fraction;
                let at = |l: &Line| i128::from(l.slope) * i128::from(a) + l.offset;
                assert!(
                    at(&lower) <= exact,
                    "lower line above g at {a}: {} > {exact}",
                    at(&lower)
                );
                assert!(
                    at(&upper) >= exact,
                    "upper line below g at {a}: {} < {exact}",
                    at(&upper)
                );
                if a == au {
                    break;
                }
                a = a.saturating_add(step).min(au);
            }
        }
        assert!(chords > 5_000, "only {chords} chords were tried");
    }
}
