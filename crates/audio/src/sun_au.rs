//! Sun/NeXT `.au` (GTZAN's original format), which symphonia 0.6 does not read.
//!
//! The header (magic, data offset and size, encoding, rate, channels, description) is parsed
//! by the `ausnd` crate. Its sample reader goes one sample at a time through `Read`, roughly
//! 10x slower than the rest of the pipeline's budget, so the sample data itself is read in
//! large blocks and converted by [`Downmix::push_interleaved`], the same code that handles
//! raw WAV/AIFF packets (`.au` samples are interleaved big-endian PCM, float or G.711).

use std::io::{Read, Seek};

use ausnd::{AuError, AuReader, SampleFormat};

use crate::mono::{Downmix, PcmEncoding, Trim};
use crate::{Audio, AudioError};

/// The four bytes every `.au` file starts with.
pub(crate) const MAGIC: &[u8; 4] = b".snd";

/// Bytes read per block; a partial frame at the end of a block is carried over to the next.
const BLOCK_BYTES: usize = 1 << 16;

/// Rejects a header whose data offset lies past the end of the input before `ausnd` sees it
/// (its length arithmetic assumes the offset is within the stream).
pub(crate) fn check_offset(head: &[u8], byte_len: u64) -> Result<(), AudioError> {
    let offset = head
        .get(4..8)
        .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        .ok_or_else(|| AudioError::Corrupt("the .au header is cut short".into()))?;
    if offset > byte_len {
        return Err(AudioError::Corrupt(format!(
            "data offset {offset} is past the end of the {byte_len}-byte input"
        )));
    }
    Ok(())
}

/// Decodes a whole `.au` stream of `byte_len` bytes.
pub(crate) fn decode<R: Read + Seek>(reader: R, byte_len: u64) -> Result<Audio, AudioError> {
    let mut reader = AuReader::new(reader).map_err(header_error)?;
    let info = reader.info().clone();
    if info.sample_rate == 0 {
        return Err(AudioError::InvalidStream("sample rate is 0".into()));
    }
    if info.channels == 0 {
        return Err(AudioError::InvalidStream(
            "the stream declares 0 channels".into(),
        ));
    }
    let encoding = match info.sample_format {
        SampleFormat::CompressedUlaw => PcmEncoding::MuLaw,
        SampleFormat::I8 => PcmEncoding::S8,
        SampleFormat::I16 => PcmEncoding::S16Be,
        SampleFormat::I24 => PcmEncoding::S24Be,
        SampleFormat::I32 => PcmEncoding::S32Be,
        SampleFormat::F32 => PcmEncoding::F32Be,
        SampleFormat::F64 => PcmEncoding::F64Be,
        SampleFormat::CompressedAlaw => PcmEncoding::ALaw,
        SampleFormat::Custom(code) => {
            return Err(AudioError::UnsupportedCodec(format!(
                "Sun .au encoding {code}"
            )));
        }
    };
    let data_offset = 24 + u64::from(info.description_byte_len);
    if data_offset > byte_len {
        return Err(AudioError::Corrupt(format!(
            "data offset {data_offset} is past the end of the {byte_len}-byte input"
        )));
    }
    let channels = usize::try_from(info.channels)
        .map_err(|_| AudioError::InvalidStream("channel count does not fit in memory".into()))?;
    let frame_bytes = (encoding.bytes_per_sample() as u64).saturating_mul(channels as u64);
    let present_bytes = byte_len - data_offset;
    // An unknown data size (0xffffffff) means "until the end of the file".
    let declared_bytes = info.sample_byte_len.map(u64::from);
    let readable_bytes = declared_bytes.map_or(present_bytes, |d| d.min(present_bytes));

    if frame_bytes > BLOCK_BYTES as u64 {
        return Err(AudioError::InvalidStream(format!(
            "{channels} channels make a frame larger than {BLOCK_BYTES} bytes"
        )));
    }
    reader.seek_to_first_sample().map_err(header_error)?;
    let mut data = reader.into_inner().take(readable_bytes);
    let mut mono = Downmix::new((readable_bytes / frame_bytes) as usize, Trim::default());
    let mut block = vec![0u8; BLOCK_BYTES];
    let mut filled = 0usize;
    loop {
        let read = data.read(&mut block[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
        let whole = filled - filled % frame_bytes as usize;
        mono.push_interleaved(&block[..whole], channels, encoding);
        block.copy_within(whole..filled, 0);
        filled -= whole;
    }

    let decoded_frames = mono.decoded_frames;
    let truncation = declared_bytes
        .map(|declared| declared / frame_bytes)
        .filter(|&declared_frames| decoded_frames < declared_frames)
        .map(|declared_frames| crate::Truncation {
            decoded_frames,
            declared_frames: Some(declared_frames),
            reason: "the sample data ends before the length the header declares".into(),
        });
    if mono.len() == 0 {
        return Err(AudioError::Empty(
            "the .au file holds no sample data".into(),
        ));
    }
    Ok(Audio {
        samples: mono.finish(),
        sample_rate: info.sample_rate,
        truncation,
    })
}

fn header_error(err: AuError) -> AudioError {
    match err {
        AuError::UnrecognizedFormat => AudioError::UnsupportedFormat("not a Sun .au file".into()),
        AuError::StdIoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Corrupt("the .au header is cut short".into())
        }
        AuError::StdIoError(io) => AudioError::Io(io),
        AuError::Unsupported => AudioError::UnsupportedCodec("unsupported .au encoding".into()),
        other => AudioError::Corrupt(format!("invalid .au header ({other:?})")),
    }
}
