//! Margins and the rule that proves a class from them: the lower bounds of
//! `f_class - f_j` over a box, and argmax's tie-break (the lowest index
//! wins), which every bound (intervals, linear) is held to.

use crate::limits::MAX_CLASSES;

/// Lower bounds of the margins `f_class - f_j`, one per class
/// (`margins[class]` is 0).
pub type Margins = heapless::Vec<i32, MAX_CLASSES>;

/// True when a lower bound `m` of `f_class - f_j` proves that `j` never
/// beats `class`: `m > 0` for `j < class`, `m >= 0` for `j > class` (a tie
/// goes to the lowest index), always for `j == class`.
pub(crate) fn proves_margin(class: usize, j: usize, m: i32) -> bool {
    match j.cmp(&class) {
        core::cmp::Ordering::Less => m > 0,
        core::cmp::Ordering::Equal => true,
        core::cmp::Ordering::Greater => m >= 0,
    }
}

/// True when margin lower bounds prove that `class` wins everywhere in the
/// box. For a single-point box this is exact.
pub(crate) fn proves(class: usize, margins: &[i32]) -> bool {
    margins
        .iter()
        .enumerate()
        .all(|(j, &m)| proves_margin(class, j, m))
}
