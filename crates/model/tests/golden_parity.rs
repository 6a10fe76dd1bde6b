//! Layer parity with PyTorch: `scripts/golden/models.py` built the same CNN, CRNN and a lone
//! GRU in PyTorch with seeded weights and non-trivial batch-norm statistics, and stored the
//! weights (in Burn's names/layouts) with the outputs for a fixed input. Here the Burn models
//! load those weights and must reproduce the outputs within 1e-4.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::nn::gru::GruConfig;
use burn::store::{ModuleSnapshot, ModuleStore, SafetensorsStore, bridge};
use burn::tensor::{Device, Tensor, TensorData};
use musicrec_model::{CnnConfig, CrnnConfig, GenreModel, HostModel, load_weights};

const TOLERANCE: f32 = 1e-4;

fn golden(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file)
}

/// The `*.io.safetensors` file of a case: inputs and PyTorch's outputs.
struct GoldenIo(SafetensorsStore);

impl GoldenIo {
    fn open(case: &str) -> Self {
        Self(SafetensorsStore::from_file(golden(&format!(
            "{case}.io.safetensors"
        ))))
    }

    fn tensor<const D: usize>(&mut self, name: &str, device: &Device) -> Tensor<D> {
        let stored = self
            .0
            .get_tensor(name)
            .expect("golden io file readable")
            .unwrap_or_else(|| panic!("golden io file lacks '{name}'"));
        Tensor::from_data(bridge::to_data(stored).expect("golden tensor data"), device)
    }
}

/// Largest absolute difference; shapes must agree exactly.
fn max_abs_error<const D: usize>(ours: Tensor<D>, theirs: Tensor<D>) -> f32 {
    assert_eq!(ours.dims(), theirs.dims(), "shape differs from PyTorch");
    let ours = ours.into_data().try_to_vec::<f32>().unwrap();
    let theirs = theirs.into_data().try_to_vec::<f32>().unwrap();
    ours.iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn assert_close<const D: usize>(what: &str, ours: Tensor<D>, theirs: Tensor<D>) {
    let error = max_abs_error(ours, theirs);
    println!("{what}: max |burn - torch| = {error:.3e}");
    assert!(
        error <= TOLERANCE,
        "{what}: max error {error} > {TOLERANCE}"
    );
}

fn load_case(case: &str, model: GenreModel) -> GenreModel {
    model
        .load_weights(&golden(&format!("{case}.weights.safetensors")))
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Eval-mode logits and embeddings of a loaded model against PyTorch's.
fn check_eval(case: &str, model: &GenreModel) {
    let device = Device::flex();
    let mut io = GoldenIo::open(case);
    let input: Tensor<4> = io.tensor("input", &device);
    let model = model.valid();
    assert_close(
        &format!("{case} logits"),
        model.forward(input.clone()).unwrap(),
        io.tensor("logits", &device),
    );
    assert_close(
        &format!("{case} embedding"),
        model.embed(input.clone()).unwrap(),
        io.tensor("embedding", &device),
    );
    // The one-pass variant the scan uses gives PyTorch's embedding and sigmoid(logits) too.
    let (embedding, probabilities) = model.embed_and_probabilities(input).unwrap();
    assert_close(
        &format!("{case} one-pass embedding"),
        embedding,
        io.tensor("embedding", &device),
    );
    assert_close(
        &format!("{case} one-pass probabilities"),
        probabilities,
        burn::tensor::activation::sigmoid(io.tensor("logits", &device)),
    );
}

#[test]
fn single_gru_layer_matches_torch_nn_gru() {
    let device = Device::flex();
    let gru = GruConfig::new(5, 6, true).init(&device);
    let gru = load_weights(gru, &golden("gru_single.weights.safetensors")).unwrap();
    let mut io = GoldenIo::open("gru_single");
    let input: Tensor<3> = io.tensor("input", &device);
    assert_close(
        "gru zero state",
        gru.forward(input.clone(), None),
        io.tensor("output_zero_state", &device),
    );
    assert_close(
        "gru given state",
        gru.forward(input, Some(io.tensor("h0", &device))),
        io.tensor("output_h0", &device),
    );
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

#[test]
fn crnn_matches_pytorch_at_96_and_128_mels() {
    // The Python side hard-codes these pools; the Rust side derives them from n_mels.
    for (n_mels, pools) in [(96, vec![2, 3, 4, 4]), (128, vec![2, 4, 4, 4])] {
        let config = small_crnn(n_mels);
        assert_eq!(config.effective_frequency_pools().unwrap(), pools);
        let case = format!("crnn_small_{n_mels}");
        let model = load_case(
            &case,
            GenreModel::Crnn(config.init(&Device::flex()).unwrap()),
        );
        check_eval(&case, &model);
        check_fused_cpu_path(&case, &model);
    }
}

#[test]
fn cnn_matches_pytorch_at_96_and_128_mels() {
    for (n_mels, pools) in [(96, vec![2, 2, 2, 3, 4]), (128, vec![2, 2, 2, 4, 4])] {
        let config = small_cnn(n_mels);
        assert_eq!(config.effective_frequency_pools().unwrap(), pools);
        let case = format!("cnn_small_{n_mels}");
        let model = load_case(
            &case,
            GenreModel::Cnn(config.init(&Device::flex()).unwrap()),
        );
        check_eval(&case, &model);
        check_fused_cpu_path(&case, &model);
    }
}

/// The fused CPU path (`HostModel`, what `scan` runs with a CNN or CRNN) against PyTorch's
/// eval-mode embedding and sigmoid(logits).
fn check_fused_cpu_path(case: &str, model: &GenreModel) {
    let device = Device::flex();
    let host = HostModel::of(&model.valid()).unwrap();
    let mut io = GoldenIo::open(case);
    let input: Tensor<4> = io.tensor("input", &device);
    let [batch, _, _, frames] = input.dims();
    let values = input.into_data().try_to_vec::<f32>().unwrap();
    let (embedding, probabilities) = host
        .embed_and_probabilities(&values, batch, frames)
        .unwrap();
    let theirs: Tensor<2> = io.tensor("embedding", &device);
    let dims = theirs.dims();
    assert_close(
        &format!("{case} fused CPU embedding"),
        Tensor::from_data(TensorData::new(embedding, dims), &device),
        theirs,
    );
    let logits: Tensor<2> = io.tensor("logits", &device);
    let dims = logits.dims();
    assert_close(
        &format!("{case} fused CPU probabilities"),
        Tensor::from_data(TensorData::new(probabilities, dims), &device),
        burn::tensor::activation::sigmoid(logits),
    );
}

/// The fused CPU path of full-width models (the built-in CNN's shape, Choi's CRNN) on a 6 s
/// window and an odd-length one (the CRNN pads it), against Burn's own ops.
#[test]
fn fused_cpu_path_matches_burn_ops_at_full_width() {
    use burn::tensor::Distribution;
    let device = Device::flex();
    let models = [
        GenreModel::Cnn(CnnConfig::new(10).init(&device).unwrap()),
        GenreModel::Crnn(CrnnConfig::new(10).init(&device).unwrap()),
    ];
    for model in models {
        let model = model.valid();
        let host = HostModel::of(&model).unwrap();
        for frames in [281, 300] {
            let input: Tensor<4> =
                Tensor::random([3, 1, 96, frames], Distribution::Normal(0.0, 1.0), &device);
            let values = input.clone().into_data().try_to_vec::<f32>().unwrap();
            let (embedding, probabilities) =
                host.embed_and_probabilities(&values, 3, frames).unwrap();
            let (e, p) = model.embed_and_probabilities(input).unwrap();
            let (e_dims, p_dims) = (e.dims(), p.dims());
            assert_close(
                &format!("{frames} frames: fused embedding"),
                Tensor::from_data(TensorData::new(embedding, e_dims), &device),
                e,
            );
            assert_close(
                &format!("{frames} frames: fused probabilities"),
                Tensor::from_data(TensorData::new(probabilities, p_dims), &device),
                p,
            );
        }
        // A wrong number of values is refused, not computed.
        assert!(
            host.embed_and_probabilities(&[0.0; 96 * 300], 2, 300)
                .is_err()
        );
    }
    // A window shorter than the CNN's pools multiply to is refused.
    let cnn = HostModel::of(&GenreModel::Cnn(CnnConfig::new(10).init(&device).unwrap())).unwrap();
    assert!(
        cnn.embed_and_probabilities(&vec![0.0; 96 * 100], 1, 100)
            .is_err()
    );
}

/// Train mode (batch statistics) and the running-statistics update after one forward pass,
/// on the dropout-free CNN so the outputs are deterministic.
///
/// One known, documented difference: PyTorch feeds the *unbiased* batch variance into
/// `running_var`, Burn the biased one. With momentum m, n values per channel and PyTorch's
/// update `v' = (1 - m) v + m u`, Burn's is `v' - m u / n`; that conversion is applied here
/// so everything else is still held to 1e-4. (n is in the thousands for real batches, so
/// the gap is far below training noise.)
#[test]
fn cnn_training_mode_batch_norm_matches_pytorch() {
    const MOMENTUM: f32 = 0.1;
    let device = Device::flex().autodiff();
    let case = "cnn_small_96";
    let model = load_case(case, GenreModel::Cnn(small_cnn(96).init(&device).unwrap()));
    let before_training: std::collections::BTreeMap<String, Vec<f32>> = model
        .collect(None, None, true)
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                bridge::to_data(t).unwrap().try_to_vec().unwrap(),
            )
        })
        .collect();
    let mut io = GoldenIo::open(case);
    let logits = model.forward(io.tensor("input", &device)).unwrap();
    assert_close(
        "cnn train-mode logits",
        logits.detach(),
        io.tensor("train_logits", &device),
    );
    let mut worst: f32 = 0.0;
    let mut checked = 0;
    // `valid()` syncs Burn's running statistics, which otherwise lag one update behind.
    for stored in model.valid().collect(None, None, true) {
        let Some(layer) = stored
            .name
            .strip_suffix(".running_mean")
            .or_else(|| stored.name.strip_suffix(".running_var"))
        else {
            continue;
        };
        let ours = bridge::to_data(&stored)
            .unwrap()
            .try_to_vec::<f32>()
            .unwrap();
        let torch: Tensor<1> = io.tensor(&format!("after_train.{}", stored.name), &device);
        let mut expected = torch.into_data().try_to_vec::<f32>().unwrap();
        if stored.name.ends_with("running_var") {
            let count: Tensor<1> = io.tensor(&format!("batch_count.{layer}"), &device);
            let n = count.into_data().try_to_vec::<f32>().unwrap()[0];
            for (value, old) in expected.iter_mut().zip(&before_training[&stored.name]) {
                let unbiased = (*value - (1.0 - MOMENTUM) * old) / MOMENTUM;
                *value -= MOMENTUM * unbiased / n;
            }
        }
        let error = ours
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(error <= TOLERANCE, "{}: max error {error}", stored.name);
        worst = worst.max(error);
        checked += 1;
    }
    println!("cnn running stats after one train step: max error {worst:.3e}");
    assert_eq!(checked, 10, "5 batch norms x (mean, var)");
}
