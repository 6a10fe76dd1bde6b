//! Shapes, sizes, bad input, save/load and one training step of the CNN and CRNN.

use burn::config::Config;
use burn::module::Module;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Int, Tensor};
use musicrec_model::{
    CnnConfig, CrnnConfig, Device, GenreModel, ModelConfig, ModelError, load_weights,
};

fn input(shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

fn small_crnn(n_mels: usize) -> CrnnConfig {
    CrnnConfig::new(3)
        .with_n_mels(n_mels)
        .with_filters(vec![4, 8, 8, 8])
        .with_gru_hidden(6)
}

fn small_cnn(n_mels: usize) -> CnnConfig {
    CnnConfig::new(3)
        .with_n_mels(n_mels)
        .with_filters(vec![4, 8, 8, 8, 8])
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn default_crnn_is_chois_half_million_parameter_model() {
    let device = Device::flex();
    let config = CrnnConfig::new(50);
    let model = config.init(&device).unwrap();
    let params = model.num_params();
    println!("default CRNN (96 mels, 50 genres): {params} parameters (incl. BN running stats)");
    assert!((450_000..=550_000).contains(&params), "{params}");

    let x = input([1, 1, 96, 256], &device);
    let embedding = model.embed(x.clone()).unwrap();
    assert_eq!(embedding.dims(), [1, config.embedding_dim()]);
    assert_eq!(config.embedding_dim(), 68);
    assert_eq!(model.forward(x.clone()).unwrap().dims(), [1, 50]);
    let probabilities = values(model.probabilities(x).unwrap());
    assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn default_cnn_is_about_as_large_as_the_crnn() {
    let device = Device::flex();
    let config = CnnConfig::new(50);
    let model = config.init(&device).unwrap();
    let params = model.num_params();
    println!("default CNN (96 mels, 50 genres): {params} parameters (incl. BN running stats)");
    assert!((450_000..=550_000).contains(&params), "{params}");
    let x = input([1, 1, 96, 256], &device);
    assert_eq!(model.embed(x.clone()).unwrap().dims(), [1, 176]);
    assert_eq!(model.forward(x).unwrap().dims(), [1, 50]);
}

#[test]
fn librosa_preset_128_mels_pools_frequency_to_one() {
    let device = Device::flex();
    for frames in [1, 97, 300] {
        let crnn = small_crnn(128).init(&device).unwrap();
        let x = input([2, 1, 128, frames], &device);
        assert_eq!(crnn.forward(x).unwrap().dims(), [2, 3], "{frames} frames");
    }
    let cnn = small_cnn(128).init(&device).unwrap();
    let x = input([2, 1, 128, 128], &device);
    assert_eq!(cnn.embed(x).unwrap().dims(), [2, 8]);
}

#[test]
fn wrong_input_shapes_are_errors_not_panics() {
    let device = Device::flex();
    let crnn = GenreModel::Crnn(small_crnn(96).init(&device).unwrap());
    let cnn = GenreModel::Cnn(small_cnn(96).init(&device).unwrap());
    for (model, shape) in [
        (&crnn, [2, 1, 128, 256]),
        (&crnn, [2, 2, 96, 256]),
        (&crnn, [0, 1, 96, 256]),
        (&crnn, [1, 1, 96, 0]),
        (&cnn, [2, 1, 128, 256]),
        (&cnn, [2, 1, 96, 127]),
    ] {
        let err = model.forward(input(shape, &device)).unwrap_err();
        assert!(matches!(err, ModelError::Input { .. }), "{err}");
        println!("{shape:?}: {err}");
    }
    assert!(cnn.check_input([2, 1, 96, 128]).is_ok());
}

#[test]
fn inconsistent_configs_are_errors() {
    let device = Device::flex();
    let bad_crnns = [
        small_crnn(96).with_time_pools(vec![2, 3, 4]),
        small_crnn(96).with_frequency_pools(Some(vec![2, 2, 4, 4])),
        small_crnn(0),
        small_crnn(96).with_gru_layers(0),
        small_crnn(96).with_block_dropout(1.0),
    ];
    for config in bad_crnns {
        let err = config.init(&device).unwrap_err();
        assert!(matches!(err, ModelError::Config(_)), "{err}");
    }
    let err = small_cnn(96)
        .with_filters(vec![4, 8])
        .init(&device)
        .unwrap_err();
    assert!(matches!(err, ModelError::Config(_)), "{err}");
}

#[test]
fn weights_round_trip_and_reject_other_architectures() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crnn.safetensors");
    let x = input([2, 1, 96, 200], &device);

    let trained = GenreModel::Crnn(small_crnn(96).init(&device).unwrap());
    trained.save_weights(&path).unwrap();
    let fresh = GenreModel::Crnn(small_crnn(96).init(&device).unwrap());
    assert_ne!(
        values(fresh.forward(x.clone()).unwrap()),
        values(trained.forward(x.clone()).unwrap())
    );
    let loaded = fresh.load_weights(&path).unwrap();
    assert_eq!(
        values(loaded.forward(x.clone()).unwrap()),
        values(trained.forward(x).unwrap())
    );

    let wider = GenreModel::Crnn(small_crnn(96).with_gru_hidden(7).init(&device).unwrap());
    let err = wider.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("mismatched"), "{err}");
    let cnn = GenreModel::Cnn(small_cnn(96).init(&device).unwrap());
    let err = cnn.clone().load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("unexpected"), "{err}");
    println!("{err}");
    assert!(
        cnn.clone()
            .load_weights(&dir.path().join("absent"))
            .is_err()
    );
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a safetensors file").unwrap();
    assert!(matches!(
        cnn.load_weights(&garbage),
        Err(ModelError::Weights { .. })
    ));
}

#[test]
fn model_config_round_trips_through_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let config = ModelConfig::Crnn(small_crnn(128));
    config.save(&path).unwrap();
    let loaded = ModelConfig::load(&path).unwrap();
    assert_eq!(loaded.n_mels(), 128);
    assert_eq!(loaded.n_genres(), 3);
    assert_eq!(loaded.embedding_dim(), 6);
    let model = loaded.init(&Device::flex()).unwrap();
    assert!(model.check_input([1, 1, 128, 10]).is_ok());
}

/// One Adam step on each architecture: finite loss, weights move, batch-norm running stats
/// update in training mode, and `valid()` gives a deterministic eval copy.
#[test]
fn a_training_step_updates_the_model() {
    let device = Device::flex().autodiff();
    for config in [
        ModelConfig::Crnn(small_crnn(96)),
        ModelConfig::Cnn(small_cnn(96)),
    ] {
        let model = config.init(&device).unwrap();
        let x = input([4, 1, 96, 160], &device);
        let targets =
            Tensor::<2, Int>::from_data([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]], &device);
        let before = values(model.valid().forward(x.clone()).unwrap());

        let loss_fn = BinaryCrossEntropyLossConfig::new()
            .with_logits(true)
            .init(&device);
        let loss = loss_fn.forward(model.forward(x.clone()).unwrap(), targets);
        let loss_value = values(loss.clone())[0];
        assert!(loss_value.is_finite() && loss_value > 0.0);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let mut optimizer = AdamConfig::new().init();
        let model = optimizer.step(1e-2, model, grads);

        let eval = model.valid();
        let after = values(eval.forward(x.clone()).unwrap());
        assert_ne!(before, after, "weights or running stats did not change");
        assert_eq!(
            after,
            values(eval.forward(x).unwrap()),
            "eval mode is deterministic"
        );
    }
}

#[test]
fn load_weights_is_generic_over_modules() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.safetensors");
    let cnn = small_cnn(96).init(&device).unwrap();
    musicrec_model::save_weights(&cnn, &path).unwrap();
    let loaded = load_weights(small_cnn(96).init(&device).unwrap(), &path).unwrap();
    let x = input([1, 1, 96, 128], &device);
    assert_eq!(
        values(loaded.forward(x.clone()).unwrap()),
        values(cnn.forward(x).unwrap())
    );
}
