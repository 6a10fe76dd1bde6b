//! `.npy` storage of log-mels: float32, shape `[n_mels, n_frames]`, C order, written atomically (temp
//! file in the target directory, then rename) so a crash never leaves a truncated feature file behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use npyz::WriterBuilder;

use crate::{FeatureError, LogMel};

/// Writes `mel` to `path` as a float32 `[n_mels, n_frames]` C-order array, atomically.
pub fn write_npy(path: impl AsRef<Path>, mel: &LogMel) -> std::io::Result<()> {
    let path = path.as_ref();
    assert_eq!(
        mel.data.len(),
        mel.n_mels * mel.n_frames,
        "LogMel data does not match its shape"
    );
    musicrec_atomic::write_file_atomically(path, |file| {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        // npyz writes the header; the data goes in as bulk little-endian bytes, because npyz's
        // element-by-element writer cost more than the whole mel projection.
        npyz::WriteOptions::new_header_only()
            .dtype(npyz::DType::Plain(
                "<f4".parse().expect("valid numpy type string"),
            ))
            .shape(&[mel.n_mels as u64, mel.n_frames as u64])
            .writer(&mut out)
            .write_header_only()?;
        let mut bytes = Vec::with_capacity(4 * 4096);
        for chunk in mel.data.chunks(4096) {
            bytes.clear();
            bytes.extend(chunk.iter().flat_map(|x| x.to_le_bytes()));
            out.write_all(&bytes)?;
        }
        out.flush()
    })
    .map_err(|e| e.into_error(|io| io.source))
}

/// Reads a log-mel written by [`write_npy`] (or numpy: any float32 2-D C-order array).
pub fn read_npy(path: impl AsRef<Path>) -> Result<LogMel, FeatureError> {
    let path = path.as_ref();
    let fail = |reason: String| FeatureError::Npy {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| fail(format!("not a .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let [n_mels, n_frames] = shape[..] else {
        return Err(fail(format!("expected a 2-D array, got shape {shape:?}")));
    };
    if npy.order() != npyz::Order::C {
        return Err(fail(
            "expected C (row-major) order, got Fortran order".into(),
        ));
    }
    let dtype = npy.dtype();
    let data: Vec<f32> = npy.into_vec().map_err(|e| {
        fail(format!(
            "expected float32 data, got dtype {}: {e}",
            dtype.descr()
        ))
    })?;
    let (n_mels, n_frames) = (n_mels as usize, n_frames as usize);
    if data.len() != n_mels * n_frames {
        return Err(fail(format!(
            "holds {} values, shape says {n_mels}x{n_frames}",
            data.len()
        )));
    }
    Ok(LogMel {
        n_mels,
        n_frames,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_shape_and_bits() {
        let dir = tempfile::tempdir().unwrap();
        let mel = LogMel {
            n_mels: 3,
            n_frames: 4,
            data: (0..12).map(|i| i as f32 * -1.25 + 0.1).collect(),
        };
        let path = dir.path().join("x.npy");
        write_npy(&path, &mel).unwrap();
        assert_eq!(read_npy(&path).unwrap(), mel);
        // Only the final file is left: the temp file was renamed, not copied.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The header is the one numpy writes for float32 C-order 2-D data.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[10..bytes.len() - 48]);
        assert!(
            header.contains("'descr': '<f4'") && header.contains("'shape': (3, 4"),
            "{header}"
        );
    }

    #[test]
    fn read_rejects_garbage_and_wrong_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("g.npy");
        std::fs::write(&garbage, b"hello").unwrap();
        assert!(matches!(read_npy(&garbage), Err(FeatureError::Npy { .. })));
        assert!(read_npy(dir.path().join("missing.npy")).is_err());

        let one_d = dir.path().join("1d.npy");
        npyz::to_file_1d(&one_d, vec![1.0f32, 2.0]).unwrap();
        let err = read_npy(&one_d).unwrap_err().to_string();
        assert!(err.contains("2-D"), "{err}");

        let f64_2d = dir.path().join("f64.npy");
        let mut buf = vec![];
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[1, 2])
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([1.0f64, 2.0]).unwrap();
        w.finish().unwrap();
        std::fs::write(&f64_2d, buf).unwrap();
        let err = read_npy(&f64_2d).unwrap_err().to_string();
        assert!(err.contains("float32"), "{err}");
    }
}
