//! Turns on the DSP kernels (`cfg(dsp_kernels)`) for ARMv7E-M targets
//! (`thumbv7em-none-eabi`, `thumbv7em-none-eabihf`: Cortex-M4 and M7, whose
//! DSP extension is mandatory). Rust cannot `cfg` on ARM target features
//! on stable, so the target name decides.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dsp_kernels)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=dsp_kernels");
    }
}
