//! What an activation buffer looks like: its CHW [`Shape`], and the
//! [`Layout`] its values sit in.

use cert_kernels::{centre_slot, point_slot, radius_slot};

use crate::limits::MAX_ACTIVATION;

/// A CHW activation shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl Shape {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when the shape holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the shape holds 1 to [`MAX_ACTIVATION`] values,
    /// computed without overflow (a crafted file must not wrap `usize` on
    /// a 32-bit device).
    pub(crate) fn fits(&self) -> bool {
        let len = (self.channels as u64)
            .checked_mul(self.height as u64)
            .and_then(|n| n.checked_mul(self.width as u64));
        matches!(len, Some(n) if (1..=MAX_ACTIVATION as u64).contains(&n))
    }
}

/// Where the values of an activation buffer sit: packed (what a Dense
/// layer's kernels read directly) or in natural CHW order (what a Conv2d
/// layer gathers its columns from). Each layer's input buffer is laid out
/// for that layer; the layer before writes it so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `cert_kernels`' packed order.
    Packed,
    /// Value `i` at `i` (points) or at `2 i` and `2 i + 1` (doubled centre
    /// and radius of intervals).
    Natural,
}

impl Layout {
    /// Slot of point value `i`.
    #[inline(always)]
    pub fn point(self, i: usize) -> usize {
        match self {
            Layout::Packed => point_slot(i),
            Layout::Natural => i,
        }
    }

    /// Slot of the doubled centre of interval value `i`.
    #[inline(always)]
    pub fn centre(self, i: usize) -> usize {
        match self {
            Layout::Packed => centre_slot(i),
            Layout::Natural => 2 * i,
        }
    }

    /// Slot of the radius of interval value `i`.
    #[inline(always)]
    pub fn radius(self, i: usize) -> usize {
        match self {
            Layout::Packed => radius_slot(i),
            Layout::Natural => 2 * i + 1,
        }
    }
}
