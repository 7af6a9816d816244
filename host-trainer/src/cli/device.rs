//! The compute device `--device` names, or a readable reason why it is not
//! there.

use anyhow::{Result, bail};
use burn::tensor::Device;

/// The burn device for `--device` (autodiff-enabled): `cpu` (burn's flex
/// backend) or `cuda` (GPU 0, with the `cuda` feature).
pub fn open(name: &str) -> Result<Device> {
    match name {
        "cpu" | "flex" => Ok(Device::flex().autodiff()),
        "cuda" => cuda(),
        other => bail!("unknown device `{other}`: use cpu or cuda"),
    }
}

/// GPU 0, after checking what cudarc and NVRTC will need at first use:
/// without these checks a missing driver is a panic deep inside cudarc.
#[cfg(feature = "cuda")]
fn cuda() -> Result<Device> {
    if Device::enumerate(burn::tensor::DeviceType::Cuda).is_empty() {
        bail!(
            "no usable CUDA GPU: the NVIDIA driver library (libcuda.so) could not be loaded, \
             or it reports no device (check `nvidia-smi`)"
        );
    }
    if cubecl_cuda::install::cuda_path().is_none() {
        bail!(
            "the CUDA toolkit was not found (NVRTC compiles the kernels at run time and needs \
             its headers): set CUDA_PATH to the installation, e.g. CUDA_PATH=/usr/local/cuda"
        );
    }
    Ok(Device::cuda(0).autodiff())
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device> {
    bail!(
        "this certnn was built without CUDA: rebuild it with \
         `cargo build --release -p host-trainer --features cuda` (see docs/cuda.md)"
    )
}
