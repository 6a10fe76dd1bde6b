//! Which Burn device runs training and prediction. Burn 0.22 picks the backend from the device,
//! so CPU (flex), CUDA and wgpu share every line of model and training code.

use musicrec_model::Device;

use crate::error::{Result, TrainError};

/// Whether this build can run on CUDA (the `gpu` feature).
pub const GPU_SUPPORT: bool = cfg!(feature = "gpu");

/// The device asked for on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceKind {
    /// Burn's pure-Rust flex backend on all cores.
    #[default]
    Cpu,
    /// The first CUDA GPU (builds with the `gpu` feature only).
    Cuda,
    /// wgpu's default adapter: Vulkan, Metal or WebGPU (builds with the `wgpu` feature only).
    Wgpu,
}

impl DeviceKind {
    /// `cpu`, `cuda` or `wgpu`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Wgpu => "wgpu",
        }
    }

    /// The Burn device (inference mode; training wraps it with `.autodiff()`).
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            Self::Cuda => cuda_device(),
            Self::Wgpu => wgpu_device(),
        }
    }
}

#[cfg(feature = "gpu")]
fn cuda_device() -> Result<Device> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "gpu"))]
fn cuda_device() -> Result<Device> {
    Err(TrainError::Device(
        "this musicrec was built without GPU support; rebuild with `cargo build --release \
         --features gpu` (needs the CUDA toolkit) or use --device cpu"
            .into(),
    ))
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    Ok(Device::wgpu(
        musicrec_model::burn::tensor::DeviceKind::DefaultDevice,
    ))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(TrainError::Device(
        "this musicrec was built without wgpu support; rebuild with `cargo build --release \
         --features wgpu` or use --device cpu"
            .into(),
    ))
}

impl std::str::FromStr for DeviceKind {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "wgpu" | "vulkan" => Ok(Self::Wgpu),
            other => Err(TrainError::Config(format!(
                "unknown device '{other}'; use cpu, cuda or wgpu"
            ))),
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
