//! Any bytes through decode -> resample -> log-mel: errors are fine, panics and non-finite
//! features from decoded audio are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musicrec_features::{MelConfig, MelExtractor};

fuzz_target!(|data: &[u8]| {
    let Ok(audio) = musicrec_audio::decode_bytes(data.to_vec(), None) else {
        return;
    };
    let cfg = MelConfig::choi();
    let Ok(samples) = musicrec_audio::resample(&audio.samples, audio.sample_rate, cfg.sample_rate)
    else {
        return;
    };
    let mel = MelExtractor::new(&cfg).unwrap().log_mel(&samples);
    assert!(mel.data.iter().all(|v| v.is_finite()));
});
