//! The budget in exact arithmetic, computed independently of the runtime:
//! in `f64`, where the difference of two `f32` values of the magnitudes
//! the tests use is exact (each check asserts it, so an inexact case fails
//! loudly instead of passing wrongly).

/// `a - b` for `f32` values, exactly, as an `f64`; panics when the `f64`
/// result is not exact (TwoSum's error term is not zero).
pub fn exact_difference(a: f32, b: f32) -> f64 {
    let (a, b) = (f64::from(a), -f64::from(b));
    let s = a + b;
    let b_part = s - a;
    let err = (a - (s - b_part)) + (b - b_part);
    assert_eq!(
        err, 0.0,
        "{a} + {b} is not exact in f64: use smaller ranges"
    );
    s
}

/// True when `|v - x| <= eps` in exact arithmetic.
pub fn within(v: f32, x: f32, eps: f32) -> bool {
    exact_difference(v, x).abs() <= f64::from(eps)
}

/// The smallest and largest `f32` within `eps` of `x`, exactly, clipped
/// to `[min, max]`: the box a counterexample may come from.
pub fn exact_box(x: f32, eps: f32, min: f32, max: f32) -> (f32, f32) {
    let lo_exact = exact_difference(x, eps);
    let hi_exact = exact_difference(x, -eps);
    let mut lo = lo_exact as f32;
    if f64::from(lo) < lo_exact {
        lo = lo.next_up();
    }
    let mut hi = hi_exact as f32;
    if f64::from(hi) > hi_exact {
        hi = hi.next_down();
    }
    assert!(within(lo, x, eps) && within(hi, x, eps));
    assert!(!within(lo.next_down(), x, eps) && !within(hi.next_up(), x, eps));
    (lo.max(min), hi.min(max))
}
