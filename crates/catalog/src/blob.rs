//! Vector <-> BLOB codec: f32 values as consecutive little-endian 4-byte words.
//!
//! Hand-written (ten lines) rather than `bytemuck`, because the stored layout must be
//! little-endian on every host and a BLOB read from SQLite has no alignment guarantee.

use crate::CatalogError;

/// `values` as little-endian f32 bytes.
pub fn encode_f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Decodes little-endian f32 bytes; a length that is not a multiple of 4 is an error.
pub fn decode_f32_le(bytes: &[u8]) -> Result<Vec<f32>, CatalogError> {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    extend_f32_le(&mut out, bytes)?;
    Ok(out)
}

/// Appends the decoded values of `bytes` to `out` (no intermediate allocation).
pub(crate) fn extend_f32_le(out: &mut Vec<f32>, bytes: &[u8]) -> Result<(), CatalogError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(CatalogError::CorruptData(format!(
            "f32 BLOB of {} bytes is not a multiple of 4",
            bytes.len()
        )));
    }
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]])),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_little_endian() {
        let values = [1.0f32, -0.5, f32::MIN_POSITIVE, 3.25e7];
        let bytes = encode_f32_le(&values);
        assert_eq!(&bytes[..4], &[0, 0, 0x80, 0x3f]);
        assert_eq!(decode_f32_le(&bytes).unwrap(), values);
    }

    #[test]
    fn rejects_ragged_length() {
        let err = decode_f32_le(&[0, 0, 0]).unwrap_err();
        assert!(err.to_string().contains("not a multiple of 4"), "{err}");
    }
}
