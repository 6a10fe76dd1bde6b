//! `features` stage: STFT, mel filterbank and dB scaling, numerically matching librosa.
