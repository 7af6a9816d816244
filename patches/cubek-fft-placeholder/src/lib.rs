//! Empty placeholder for `cubek-fft` 0.3.1: cargo must find the package to
//! resolve host-trainer's `cuda` feature offline, and never compiles it
//! (see `Cargo.toml`).
