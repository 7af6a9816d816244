//! The one little-endian decoder: model files keep multi-byte values as
//! byte strings (so that they borrow from flash with no alignment), and
//! every reader of them comes here.

/// The `i`-th `i32` of a byte string (panics past its end: callers index
/// arrays whose lengths the loader checked).
#[inline(always)]
pub(crate) fn i32_at(bytes: &[u8], i: usize) -> i32 {
    let b = &bytes[4 * i..4 * i + 4];
    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// The `f32` that starts at byte `at`, or `None` past the end.
#[inline]
pub(crate) fn f32_from(bytes: &[u8], at: usize) -> Option<f32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The `i`-th `f32` of a byte string, or `None` past the end.
#[inline]
pub(crate) fn f32_at(bytes: &[u8], i: usize) -> Option<f32> {
    f32_from(bytes, i.checked_mul(4)?)
}
