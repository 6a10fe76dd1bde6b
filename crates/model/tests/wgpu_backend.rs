//! The same models on Burn's wgpu backend (this crate's `wgpu` feature) as on the flex CPU backend:
//! one set of weights, one input, logits and embeddings that agree, and a training step that runs.
//! Built only with `--features wgpu`; on a machine without a GPU, Mesa's lavapipe (Debian's
//! `mesa-vulkan-drivers`) is a Vulkan device that runs it on the CPU.
#![cfg(feature = "wgpu")]

use burn::module::Module;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Int, Tensor};
use musicrec_model::{CnnConfig, CrnnConfig, Device, ModelConfig};

fn wgpu() -> Device {
    Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)
}

fn max_abs_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    let (a, b) = (
        a.into_data().try_to_vec::<f32>().unwrap(),
        b.into_data().try_to_vec::<f32>().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn cnn_and_crnn_give_the_flex_outputs_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    for (name, config) in [
        (
            "cnn",
            ModelConfig::Cnn(CnnConfig::new(4).with_filters(vec![8, 16, 16, 16, 16])),
        ),
        (
            "crnn",
            ModelConfig::Crnn(
                CrnnConfig::new(4)
                    .with_filters(vec![8, 16, 16, 16])
                    .with_gru_hidden(12),
            ),
        ),
    ] {
        let cpu = Device::flex();
        let on_cpu = config.init(&cpu).unwrap().valid();
        let weights = dir.path().join(format!("{name}.safetensors"));
        on_cpu.save_weights(&weights).unwrap();
        let on_gpu = config
            .init(&wgpu())
            .unwrap()
            .load_weights(&weights)
            .unwrap()
            .valid();
        let x: Tensor<4> = Tensor::random([2, 1, 96, 128], Distribution::Normal(0.0, 1.0), &cpu);
        let x_gpu = Tensor::from_data(x.to_data(), &wgpu());
        let logits = max_abs_diff(
            on_cpu.forward(x.clone()).unwrap(),
            on_gpu.forward(x_gpu.clone()).unwrap(),
        );
        let embedding = max_abs_diff(on_cpu.embed(x).unwrap(), on_gpu.embed(x_gpu).unwrap());
        println!("{name}: wgpu vs flex max |diff| logits {logits:.2e}, embedding {embedding:.2e}");
        assert!(
            logits < 1e-3 && embedding < 1e-3,
            "{name}: {logits} {embedding}"
        );
    }
}

#[test]
fn a_training_step_on_wgpu_lowers_the_loss_of_its_batch() {
    let device = wgpu().autodiff();
    let config = ModelConfig::Crnn(
        CrnnConfig::new(3)
            .with_filters(vec![4, 8, 8, 8])
            .with_gru_hidden(6),
    );
    let mut model = config.init(&device).unwrap();
    let mut optimizer = AdamConfig::new().init();
    let x: Tensor<4> = Tensor::random([4, 1, 96, 64], Distribution::Normal(0.0, 1.0), &device);
    let targets =
        Tensor::<2, Int>::from_data([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], &device);
    let loss_fn = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&device);
    let mut losses = Vec::new();
    for _ in 0..5 {
        let loss = loss_fn.forward(model.forward(x.clone()).unwrap(), targets.clone());
        losses.push(loss.clone().into_data().try_to_vec::<f32>().unwrap()[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, grads);
    }
    println!("wgpu training losses: {losses:?}");
    assert!(losses[4] < losses[0], "{losses:?}");
}
