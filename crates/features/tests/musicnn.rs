//! librosa parity of the `musicnn` preset (MusiCNN's front end): its Slaney filterbank up to
//! 8 kHz, and the log-mel `log10(1 + 10000 * float16(mel))` of a real clip. Golden files:
//! scripts/golden/musicnn.py, which computes librosa's log-mel from the very 16 kHz samples
//! `musicrec decode --sr 16000` gives, so the resampler is out of the comparison.

mod common;

use common::{abs_errors, golden, golden_dir, percentile, shared_data};
use musicrec_features::{LogScale, MelConfig, MelExtractor, mel_filterbank};

#[test]
fn filterbank_musicnn_preset_matches_librosa() {
    let cfg = MelConfig::musicnn();
    let read = |name: &str| std::fs::File::open(golden_dir().join(name)).unwrap();
    let index = npyz::NpyFile::new(read("fb_musicnn_index.npy"))
        .unwrap()
        .into_vec::<i64>()
        .unwrap();
    let weights = npyz::NpyFile::new(read("fb_musicnn_weights.npy"))
        .unwrap()
        .into_vec::<f32>()
        .unwrap();
    let n_bins = cfg.n_bins();
    let mut expected = vec![0.0f32; cfg.n_mels * n_bins];
    let mut at = 0;
    for (m, pair) in index.chunks_exact(2).enumerate() {
        let (first, len) = (pair[0] as usize, pair[1] as usize);
        expected[m * n_bins + first..m * n_bins + first + len]
            .copy_from_slice(&weights[at..at + len]);
        at += len;
    }
    assert_eq!(at, weights.len());
    let ours = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax);
    let max_err = ours
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("filterbank musicnn: max abs error {max_err:e}");
    assert!(
        max_err < 1e-6,
        "filterbank musicnn: max abs error {max_err}"
    );
}

#[test]
fn logmel_musicnn_preset_matches_librosa() {
    let Some(data) = shared_data() else { return };
    let g = golden("jazz00000_musicnn");
    assert_eq!(
        g.config,
        MelConfig::musicnn(),
        "golden made with the preset"
    );
    assert_eq!(g.config.log_scale, LogScale::Musicnn);
    let audio = musicrec_audio::load(data.join(&g.file), Some(16_000)).unwrap();
    assert_eq!(audio.samples.len(), g.n_samples, "decoded length");
    let ours = MelExtractor::new(&g.config)
        .unwrap()
        .log_mel(&audio.samples);
    assert_eq!(ours.n_frames, g.n_frames);
    let errs = abs_errors(&ours, &g.mel);
    let max = errs[errs.len() - 1];
    let beyond = errs.iter().filter(|&&e| e > 1e-6).count();
    println!(
        "jazz00000 musicnn: max abs error {max:.2e}, p99 {:.2e}, {beyond} of {} cells beyond 1e-6",
        percentile(&errs, 0.99),
        errs.len()
    );
    // Equal but where float32 noise in the mel tips a float16 rounding the other way: one
    // float16 step (2^-11 relative) moves log10(1 + 1e4 x) by at most 2.1e-4.
    assert!(max <= 4.3e-4, "max abs error {max}");
    assert!(beyond * 1000 <= errs.len(), "{beyond} cells differ");
    // And the log-mel is musicnn's scale, not dB: silence is 0, values stay within a few units.
    let silent = MelExtractor::new(&g.config).unwrap().log_mel(&[0.0; 4096]);
    assert!(silent.data.iter().all(|&x| x == 0.0));
    assert!(g.mel.data.iter().all(|&x| (0.0..6.0).contains(&x)));
}
