//! The fixed capacities of the runtime, at the bottom of the crate: every
//! module that checks a size imports them from here.

/// Most layers a model may have.
pub const MAX_LAYERS: usize = 12;
/// Most classes a model may have.
pub const MAX_CLASSES: usize = 32;
/// Most values one activation tensor (the input included) may hold.
pub const MAX_ACTIVATION: usize = 1 << 20;
/// Levels of the refinement trail the host tools and the firmware use
/// ([`crate::Trail`]). A trail at least as deep as a refinement can go
/// (`Model::refine_depth`) gives verdicts that do not depend on its depth;
/// a shallower one is an error, never a different verdict.
pub const REFINE_DEPTH: usize = 256;
