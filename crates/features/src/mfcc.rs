//! MFCCs of a dB log-mel: the DCT-II (orthonormal) over the mel axis, as
//! `librosa.feature.mfcc(S=log_mel_db, n_mfcc=N)` (which calls `scipy.fftpack.dct(S, axis=-2,
//! type=2, norm='ortho')[:N]`), and the classic 2·N-value content baseline of each coefficient's
//! mean and standard deviation over time.
//!
//! The DCT is a direct `n_mfcc x n_mels` matrix product rather than an FFT-based DCT crate
//! (rustdct): only the first `n_mfcc` (20) of `n_mels` (96-128) outputs are needed, so the matrix
//! is ~2.5k multiply-adds per frame, less than a full fast DCT of the column, and it needs no
//! transpose of the row-major `[n_mels][frames]` layout.

use crate::{FeatureError, LogMel};

/// The orthonormal DCT-II basis rows `0..n_mfcc` for inputs of length `n_mels`:
/// `w[k][n] = sqrt((k == 0 ? 1 : 2) / n_mels) * cos(pi * k * (2n + 1) / (2 n_mels))`.
fn dct_ortho_matrix(n_mfcc: usize, n_mels: usize) -> Vec<f64> {
    let n = n_mels as f64;
    let mut matrix = Vec::with_capacity(n_mfcc * n_mels);
    for k in 0..n_mfcc {
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        for m in 0..n_mels {
            let angle = std::f64::consts::PI * k as f64 * (2 * m + 1) as f64 / (2.0 * n);
            matrix.push(scale * angle.cos());
        }
    }
    matrix
}

fn check(log_mel: &LogMel, n_mfcc: usize) -> Result<(), FeatureError> {
    if n_mfcc == 0 || n_mfcc > log_mel.n_mels {
        return Err(FeatureError::InvalidConfig(format!(
            "n_mfcc must be between 1 and the number of mel bands ({}), got {n_mfcc}",
            log_mel.n_mels
        )));
    }
    if log_mel.data.len() != log_mel.n_mels * log_mel.n_frames {
        return Err(FeatureError::InvalidConfig(format!(
            "log-mel holds {} values, not {} mels x {} frames",
            log_mel.data.len(),
            log_mel.n_mels,
            log_mel.n_frames
        )));
    }
    Ok(())
}

/// MFCCs, row-major `[n_mfcc][n_frames]` (librosa's layout). Errors when `n_mfcc` is 0 or more
/// than the number of mel bands, or the log-mel's data does not match its shape.
pub fn mfcc(log_mel: &LogMel, n_mfcc: usize) -> Result<Vec<f32>, FeatureError> {
    check(log_mel, n_mfcc)?;
    let (n_mels, frames) = (log_mel.n_mels, log_mel.n_frames);
    let basis = dct_ortho_matrix(n_mfcc, n_mels);
    // f64 accumulation: c0 sums ~128 dB values of magnitude up to ~100, and the librosa reference
    // is float64.
    let mut out = vec![0.0f64; n_mfcc * frames];
    for (k, row) in out.chunks_exact_mut(frames.max(1)).enumerate().take(n_mfcc) {
        for m in 0..n_mels {
            let w = basis[k * n_mels + m];
            for (acc, &x) in row.iter_mut().zip(log_mel.band(m)) {
                *acc += w * f64::from(x);
            }
        }
    }
    Ok(out.into_iter().map(|v| v as f32).collect())
}

/// Mean then population standard deviation (numpy's default `ddof=0`) over frames of each of the
/// first `n_mfcc` MFCCs: `2 * n_mfcc` values, all means first. Errors as [`mfcc`], and for a
/// log-mel without frames.
pub fn mfcc_summary(log_mel: &LogMel, n_mfcc: usize) -> Result<Vec<f32>, FeatureError> {
    if log_mel.n_frames == 0 {
        return Err(FeatureError::InvalidConfig(
            "cannot summarise a log-mel without frames".into(),
        ));
    }
    let coefficients = mfcc(log_mel, n_mfcc)?;
    let frames = log_mel.n_frames as f64;
    let mut means = Vec::with_capacity(n_mfcc);
    let mut stds = Vec::with_capacity(n_mfcc);
    for row in coefficients.chunks_exact(log_mel.n_frames) {
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / frames;
        let var = row
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / frames;
        means.push(mean as f32);
        stds.push(var.sqrt() as f32);
    }
    means.extend(stds);
    Ok(means)
}

#[cfg(test)]
mod tests {
    use super::dct_ortho_matrix;

    #[test]
    fn full_dct_matrix_is_orthonormal() {
        let n = 16;
        let w = dct_ortho_matrix(n, n);
        for a in 0..n {
            for b in 0..n {
                let dot: f64 = (0..n).map(|m| w[a * n + m] * w[b * n + m]).sum();
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-12, "rows {a},{b}: {dot}");
            }
        }
    }
}
