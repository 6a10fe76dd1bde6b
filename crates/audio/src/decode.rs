//! Decoding: any supported file or byte buffer -> mono f32 at the file's own sample rate.
//!
//! Containers and codecs come from symphonia 0.6 (plus libopus through
//! `symphonia-adapter-libopus`); Sun/NeXT `.au` comes from `ausnd` (see [`crate::sun_au`]).
//! This module owns the glue: content probing (the extension is only a hint), the decode loop,
//! the packet-by-packet downmix into one growing `Vec`, gapless trimming that symphonia leaves to
//! the caller (MP4 edit lists / iTunSMPB), truncation checks, error classification, and the
//! parallel decoding of long lossy streams in segments ([`decode_split`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::well_known::{
    FORMAT_ID_AIFF, FORMAT_ID_CAF, FORMAT_ID_FLAC, FORMAT_ID_ISOMP4, FORMAT_ID_MP3, FORMAT_ID_OGG,
    FORMAT_ID_WAVE,
};
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{MetadataOptions, RawValue};
use symphonia::core::packet::Packet;
use symphonia::core::units::Duration;

use crate::mono::{Downmix, PcmEncoding, Trim};
use crate::{Audio, AudioError, Truncation, mp4_gapless, sun_au};

/// The MP3 synthesis filterbank's own delay (528 + 1 frames). Symphonia removes it only when a
/// LAME/Lavc tag is present (together with the encoder delay the tag declares). For a file with
/// a Xing/Info frame but no LAME extension it is removed here too, and for a file with neither
/// it is kept: that is what libsndfile/mpg123 (and so librosa) do, and the features stage is
/// checked against librosa. The encoder's own delay (576 frames for LAME) stays: only a LAME
/// tag can declare it.
const MP3_DECODER_DELAY: u64 = 529;

/// How far a lossy stream may fall short of the length its container declares (encoder delay
/// and padding, a few codec frames) before it counts as truncated.
const LOSSY_LENGTH_SLACK: u64 = 8192;

/// Upper bound on how many output samples may be reserved per input byte before decoding.
/// A header may lie about its length; this keeps a 100-byte fuzz input from reserving gigabytes,
/// while real files (worst realistic case: ~48 samples/byte for 8 kbit/s Opus) get one exact
/// allocation.
const MAX_RESERVE_SAMPLES_PER_BYTE: u64 = 64;
/// Reservation floor so that tiny inputs still get a useful first allocation.
const MIN_RESERVE_SAMPLES: u64 = 1 << 16;

/// Where the encoded bytes come from. Files are streamed, never read whole into memory.
#[derive(Clone)]
pub(crate) enum Input {
    File(PathBuf),
    Bytes(SharedBytes),
}

/// Bytes shared between symphonia's reader and the second pass that MP4 edit lists need.
#[derive(Clone)]
pub(crate) struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl Input {
    fn open(&self) -> Result<Box<dyn MediaSource>, AudioError> {
        Ok(match self {
            Input::File(path) => Box::new(File::open(path)?),
            Input::Bytes(bytes) => Box::new(std::io::Cursor::new(bytes.clone())),
        })
    }

    fn byte_len(&self) -> Result<u64, AudioError> {
        Ok(match self {
            Input::File(path) => std::fs::metadata(path)?.len(),
            Input::Bytes(bytes) => bytes.0.len() as u64,
        })
    }

    fn extension(&self) -> Option<String> {
        match self {
            Input::File(path) => path.extension().and_then(|e| e.to_str()).map(str::to_owned),
            Input::Bytes(_) => None,
        }
    }

    /// The first bytes, to recognise formats symphonia does not know (Sun `.au`).
    fn head(&self, len: usize) -> Result<Vec<u8>, AudioError> {
        let mut source = self.open()?;
        let mut head = Vec::with_capacity(len);
        source.by_ref().take(len as u64).read_to_end(&mut head)?;
        Ok(head)
    }
}

/// Decodes `path` to mono f32 at its own sample rate. A file whose container declares an exact
/// length (WAV, AIFF, CAF, FLAC, `.au`) and holds less is an [`AudioError::Truncated`]; a lossy
/// stream that stops mid-packet is returned with [`Audio::truncation`] set.
pub fn decode_file(path: impl AsRef<Path>) -> Result<Audio, AudioError> {
    complete(decode_input(
        Input::File(path.as_ref().to_path_buf()),
        None,
    )?)
}

/// Decodes `path` like [`decode_file`], but a truncated file is analysed as far as it can be
/// read (as players do): when at least `min_duration_secs` of audio decoded, the samples come
/// back with [`Audio::truncation`] saying so; otherwise the file is [`AudioError::Truncated`].
pub fn decode_file_partial(
    path: impl AsRef<Path>,
    min_duration_secs: f64,
) -> Result<Audio, AudioError> {
    let audio = decode_input(Input::File(path.as_ref().to_path_buf()), None)?;
    let audio_secs = audio.duration_secs();
    if let Some(truncation) = audio.truncation.clone()
        && audio_secs < min_duration_secs
    {
        complete(audio)?;
        return Err(AudioError::Corrupt(format!(
            "{truncation}; {audio_secs:.1} s readable, under the {min_duration_secs} s minimum"
        )));
    }
    Ok(audio)
}

/// Decodes an in-memory file; `extension_hint` (e.g. `"mp3"`) only speeds up probing. Truncation
/// is handled as in [`decode_file`].
pub fn decode_bytes(bytes: Vec<u8>, extension_hint: Option<&str>) -> Result<Audio, AudioError> {
    complete(decode_input(
        Input::Bytes(SharedBytes(Arc::new(bytes))),
        extension_hint,
    )?)
}

/// The strict reading: short of an exactly declared length is an error, as it always was.
fn complete(audio: Audio) -> Result<Audio, AudioError> {
    match &audio.truncation {
        Some(Truncation {
            decoded_frames,
            declared_frames: Some(declared_frames),
            ..
        }) => Err(AudioError::Truncated {
            decoded_frames: *decoded_frames,
            declared_frames: *declared_frames,
        }),
        _ => Ok(audio),
    }
}

fn decode_input(input: Input, extension_hint: Option<&str>) -> Result<Audio, AudioError> {
    guarded(|| {
        let audio = decode_input_unguarded(&input, extension_hint)?;
        check_sample_values(&audio.samples)?;
        Ok(audio)
    })
}

/// Runs decoding work with a panic turned into an error. Decoders are third-party code fed
/// untrusted bytes: a panic inside one must become an error for this one file, reported
/// quietly, not take down a batch job that is decoding thousands. Each thread that decodes
/// calls it for its own work (the hook's quiet mode is per thread).
fn guarded<T>(work: impl FnOnce() -> Result<T, AudioError>) -> Result<T, AudioError> {
    crate::quiet_panic::catch_unwind_quietly(work)
        .unwrap_or_else(|reason| Err(AudioError::Corrupt(format!("decoder panicked: {reason}"))))
}

fn decode_input_unguarded(
    input: &Input,
    extension_hint: Option<&str>,
) -> Result<Audio, AudioError> {
    let byte_len = input.byte_len()?;
    if byte_len == 0 {
        return Err(AudioError::Empty("the input is 0 bytes long".into()));
    }
    let head = input.head(24)?;
    if head.starts_with(sun_au::MAGIC) {
        sun_au::check_offset(&head, byte_len)?;
        return match input {
            Input::File(path) => {
                sun_au::decode(std::io::BufReader::new(File::open(path)?), byte_len)
            }
            Input::Bytes(bytes) => sun_au::decode(std::io::Cursor::new(bytes.as_ref()), byte_len),
        };
    }
    decode_with_symphonia(input, extension_hint, byte_len, true)
}

/// Largest sample magnitude accepted from a decoder: 2^20, 120 dB above full scale.
/// Float WAV/CAF/AIFF samples are stored as they are, so a damaged file can hold NaN, infinity or
/// absurd values such as 1e38; those would poison every later stage (an FFT of them gives NaN
/// or infinity; rubato, the resampler before libsoxr, panicked on them), and no real recording exceeds full
/// scale by a factor of a million. The whole file is rejected rather than the values zeroed:
/// such damage is rarely confined to a few samples, and a silent repair would hide it.
pub(crate) const MAX_SAMPLE_MAGNITUDE: f32 = 1_048_576.0;

/// Rejects audio holding a non-finite or absurdly large sample; see [`MAX_SAMPLE_MAGNITUDE`].
pub(crate) fn check_sample_values(samples: &[f32]) -> Result<(), AudioError> {
    if all_in_range(samples) {
        return Ok(());
    }
    for (index, chunk) in samples.chunks(CHECK_CHUNK).enumerate() {
        if !chunk_in_range(chunk) {
            let offset = chunk
                .iter()
                .position(|x| x.is_nan() || x.abs() > MAX_SAMPLE_MAGNITUDE)
                .unwrap_or(0);
            let at = index * CHECK_CHUNK + offset;
            let value = chunk[offset];
            let what = if value.is_finite() {
                format!("a sample of magnitude {:e}", value.abs())
            } else {
                format!("a non-finite sample ({value})")
            };
            return Err(AudioError::Corrupt(format!(
                "{what} at mono sample {at}: the sample data is damaged"
            )));
        }
    }
    Ok(())
}

const CHECK_CHUNK: usize = 4096;

/// A branch-free fold (NaN fails `<=`), so that the common all-valid case vectorises; the
/// position of a bad sample is only searched for once one is known to exist.
#[inline(always)]
fn chunk_in_range(chunk: &[f32]) -> bool {
    chunk
        .iter()
        .fold(true, |ok, &x| ok & (x.abs() <= MAX_SAMPLE_MAGNITUDE))
}

fn all_in_range(samples: &[f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { all_in_range_avx2(samples) };
    }
    samples.chunks(CHECK_CHUNK).all(chunk_in_range)
}

/// The same fold with 8 lanes (the build targets baseline x86-64): a pass over every decoded
/// sample, 2% of the front end's time with SSE2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn all_in_range_avx2(samples: &[f32]) -> bool {
    samples.chunks(CHECK_CHUNK).all(chunk_in_range)
}

/// Symphonia's codecs plus libopus, built once.
fn codec_registry() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

fn decode_with_symphonia(
    input: &Input,
    extension_hint: Option<&str>,
    byte_len: u64,
    pcm_fast_path: bool,
) -> Result<Audio, AudioError> {
    let mss = MediaSourceStream::new(input.open()?, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension_hint
        .map(str::to_owned)
        .or_else(|| input.extension())
    {
        hint.with_extension(&ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(classify_probe_error)?;

    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::UnsupportedFormat("no audio track in the container".into()))?
        .clone();
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| {
            AudioError::UnsupportedCodec("the audio track has no codec parameters".into())
        })?
        .clone();
    // An unknown codec is reported as such even when its parameters are incomplete too.
    if codec_registry().get_audio_decoder(params.codec).is_none() {
        return Err(AudioError::UnsupportedCodec(format!(
            "no decoder for codec id {} in the {} container",
            params.codec,
            format.format_info().short_name
        )));
    }
    let sample_rate = match params.sample_rate {
        Some(0) | None => {
            return Err(AudioError::InvalidStream(
                "sample rate is 0 or missing".into(),
            ));
        }
        Some(rate) => rate,
    };
    let declared_channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    if declared_channels == 0 {
        return Err(AudioError::InvalidStream(
            "the stream declares 0 channels".into(),
        ));
    }
    let decoder = make_decoder(&params)?;

    let format_id = format.format_info().format;
    let gapless = if format_id == FORMAT_ID_ISOMP4 {
        mp4_trim(input, &mut *format, sample_rate)
    } else if format_id == FORMAT_ID_MP3
        && track.delay.unwrap_or(0) == 0
        && mp3_has_info_frame(input)
    {
        // Symphonia reports delay 0 both without a LAME tag and for a tag from an encoder it
        // does not recognise; with a recognised tag the delay is always >= 529.
        Trim {
            skip_frames: MP3_DECODER_DELAY,
            valid_frames: None,
        }
    } else {
        Trim::default()
    };
    let raw_pcm = raw_pcm_encoding(&params).filter(|_| pcm_fast_path);
    let reserve = track.num_frames.unwrap_or(0).min(
        byte_len
            .saturating_mul(MAX_RESERVE_SAMPLES_PER_BYTE)
            .max(MIN_RESERVE_SAMPLES),
    );
    let mut stream_decoder = PacketDecoder::new(decoder, raw_pcm, declared_channels);
    // Only lossy streams are split across threads: their packets are small next to the audio
    // they hold (a FLAC's or a WAV's would double the memory a long file takes) and their
    // decoders are where the time goes (libopus was 75% of a long Opus file's front end).
    let split = raw_pcm.is_none()
        && SPLIT_CODECS.contains(&params.codec)
        && rayon::current_num_threads() > 1;
    let mut demuxer_error = None;
    // Ogg: symphonia derives each packet's end trim from its page's granule position, so a page
    // whose granule position runs backwards (some ffmpeg filter graphs write such streams) cuts
    // whole packets short, and the loss accumulates. ffmpeg and libsndfile decode every packet
    // and use the granule position only to trim the padding of the final page; so is done here:
    // each packet is held back until the next one arrives, and only the last keeps its end trim.
    let keep_only_final_end_trim = format_id == FORMAT_ID_OGG;
    let mut held_back: Option<Packet> = None;
    let mut mono = Downmix::new(reserve as usize, gapless);
    let mut collected = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            // End of stream; ResetRequired means a chained stream with new parameters, which
            // a single-clip loader treats as the end of the clip.
            Ok(None) | Err(SymphoniaError::ResetRequired) => break,
            // A demuxer error mid-stream (e.g. the data stops early) ends the stream like a
            // player would; the truncation check below decides whether that is acceptable.
            Err(err) => {
                tracing::debug!("demuxer stopped: {err}");
                demuxer_error = Some(AudioError::one_line(&err));
                break;
            }
        };
        if packet.track_id != track.id {
            continue;
        }
        let packet = if keep_only_final_end_trim {
            match held_back.replace(packet) {
                Some(mut previous) => {
                    previous.trim_end = Duration::ZERO;
                    previous
                }
                None => continue,
            }
        } else {
            packet
        };
        if split {
            collected.push(packet);
        } else {
            stream_decoder.decode(&packet, Some(&mut mono))?;
        }
    }
    if let Some(last) = held_back {
        if split {
            collected.push(last);
        } else {
            stream_decoder.decode(&last, Some(&mut mono))?;
        }
    }
    if split {
        let seconds_per_tick = match track.time_base {
            Some(base) => f64::from(base.numer.get()) / f64::from(base.denom.get()),
            None => 1.0 / f64::from(sample_rate),
        };
        decode_split(
            &params,
            &collected,
            seconds_per_tick,
            &mut stream_decoder,
            &mut mono,
        )?;
    }
    let (failed_packets, last_error) = (stream_decoder.failed, stream_decoder.last_error);
    let last_error = demuxer_error.clone().or(last_error);
    if failed_packets > 0 {
        tracing::debug!("skipped {failed_packets} undecodable packets");
    }

    let decoded_frames = mono.decoded_frames;
    let samples = mono.finish();
    if samples.is_empty() {
        return Err(match last_error {
            Some(reason) => AudioError::Corrupt(AudioError::one_line(format_args!(
                "no audio could be decoded ({reason})"
            ))),
            None => AudioError::Empty("the stream contains no audio frames".into()),
        });
    }
    // Lossless containers declare an exact frame count: fewer decoded frames means the data
    // stops early. Lossy demuxers may only estimate their length, so for them only a demuxer
    // error (the data stops in the middle of a packet or page) marks the file truncated.
    let exact_length = [
        FORMAT_ID_WAVE,
        FORMAT_ID_AIFF,
        FORMAT_ID_CAF,
        FORMAT_ID_FLAC,
    ];
    let truncation = match track.num_frames {
        Some(declared_frames)
            if exact_length.contains(&format_id) && decoded_frames < declared_frames =>
        {
            Some(Truncation {
                decoded_frames,
                declared_frames: Some(declared_frames),
                reason: demuxer_error
                    .unwrap_or_else(|| "the stream ends before its declared length".into()),
            })
        }
        // A lossy stream's declared length (e.g. an MP3's Xing/Info frame count) is not exact
        // enough to refuse a file over, but a stream that stops well short of it was cut off.
        Some(declared_frames) if decoded_frames + LOSSY_LENGTH_SLACK < declared_frames => {
            Some(Truncation {
                decoded_frames,
                declared_frames: None,
                reason: demuxer_error.unwrap_or_else(|| {
                    format!("the stream stops {decoded_frames} frames into the {declared_frames} its header declares")
                }),
            })
        }
        _ => demuxer_error.map(|reason| Truncation {
            decoded_frames,
            declared_frames: None,
            reason,
        }),
    };
    Ok(Audio {
        samples,
        sample_rate,
        truncation,
    })
}

/// Codecs whose long streams are decoded in parallel segments (see [`decode_split`]). Not AAC:
/// its perceptual noise substitution draws from a random generator that runs through the whole
/// stream, so a segment decoded by a fresh decoder never converges to the serial decode (a
/// 68 s file from ffmpeg's encoder differed by up to 0.95 from the segment's start on).
const SPLIT_CODECS: [symphonia::core::codecs::audio::AudioCodecId; 3] = [
    codec_ids::CODEC_ID_OPUS,
    codec_ids::CODEC_ID_VORBIS,
    codec_ids::CODEC_ID_MP3,
];

/// Shortest stretch of audio one thread decodes on its own: shorter files are not split, so a
/// scan of 30 s clips (already parallel across files) decodes each clip exactly as before.
pub(crate) const MIN_SEGMENT_SECS: f64 = 20.0;

/// See [`decode_split`].
const SEGMENTS_PER_THREAD: usize = 4;

/// Audio decoded and thrown away before each later segment, so that the decoder's state (MDCT
/// overlap, an MP3's bit reservoir and filterbank, Opus's predictors) has converged when the
/// segment's first packet is decoded. RFC 7845 asks for 80 ms before a seek target in Opus;
/// this is three times that.
const PRE_ROLL_SECS: f64 = 0.25;

fn make_decoder(
    params: &AudioCodecParameters,
) -> Result<Box<dyn symphonia::core::codecs::audio::AudioDecoder>, AudioError> {
    codec_registry()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(classify_stream_error)
}

/// One decoder and what it met: undecodable packets are skipped like players do (only a file
/// with nothing decodable at all is an error) and counted.
struct PacketDecoder {
    decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
    raw_pcm: Option<PcmEncoding>,
    channels: usize,
    failed: u64,
    last_error: Option<String>,
}

impl PacketDecoder {
    fn new(
        decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
        raw_pcm: Option<PcmEncoding>,
        channels: usize,
    ) -> Self {
        PacketDecoder {
            decoder,
            raw_pcm,
            channels,
            failed: 0,
            last_error: None,
        }
    }

    /// Decodes `packet` into `mono`, or only into the decoder's state when `mono` is `None`
    /// (a pre-roll).
    fn decode(&mut self, packet: &Packet, mono: Option<&mut Downmix>) -> Result<(), AudioError> {
        if let Some(encoding) = self.raw_pcm {
            if let Some(mono) = mono {
                mono.push_interleaved(&packet.data, self.channels, encoding);
            }
            return Ok(());
        }
        match self.decoder.decode(packet) {
            Ok(buffer) => {
                if let Some(mono) = mono {
                    mono.push_buffer(&buffer)?;
                }
            }
            Err(SymphoniaError::DecodeError(reason)) => {
                self.failed += 1;
                self.last_error = Some(reason.to_owned());
            }
            Err(SymphoniaError::IoError(err)) => {
                self.failed += 1;
                self.last_error = Some(err.to_string());
            }
            Err(err) => return Err(classify_stream_error(err)),
        }
        Ok(())
    }
}

/// Decodes a long lossy stream's `packets` into `mono` on the threads of the caller's rayon
/// pool: one segment of at least [`MIN_SEGMENT_SECS`] per thread. `first` decodes the first
/// segment straight into `mono` (which applies the encoder delay and padding, as in a serial
/// decode); every later segment gets a decoder of its own, which first decodes
/// [`PRE_ROLL_SECS`] of the packets before the segment and throws that audio away, and is
/// appended in order. Vorbis and MP3 come out bit for bit as decoded serially; Opus's decoder
/// state only converges: a relative RMS difference of 1.4e-6, at most 4e-5
/// (`tests/parallel_decode.rs`). Failures are counted into `first`.
fn decode_split(
    params: &AudioCodecParameters,
    packets: &[Packet],
    seconds_per_tick: f64,
    first: &mut PacketDecoder,
    mono: &mut Downmix,
) -> Result<(), AudioError> {
    let secs = |p: &Packet| p.dur.get() as f64 * seconds_per_tick;
    let total_secs: f64 = packets.iter().map(secs).sum();
    // A few segments per thread, so that a thread done early takes over the rest of the work
    // (decoding speed varies along a file: two equal halves of a 10-minute Opus file took
    // 0.62 and 0.74 s).
    let segments = ((SEGMENTS_PER_THREAD * rayon::current_num_threads()) as f64)
        .min((total_secs / MIN_SEGMENT_SECS).floor())
        .max(1.0) as usize;
    // Cut where the running duration passes each k/segments of the total.
    let mut starts = vec![0usize];
    let mut elapsed = 0.0;
    for (index, packet) in packets.iter().enumerate() {
        if starts.len() == segments {
            break;
        }
        if index > 0 && elapsed >= total_secs * starts.len() as f64 / segments as f64 {
            starts.push(index);
        }
        elapsed += secs(packet);
    }
    starts.push(packets.len());
    let channels = first.channels;
    let frames_per_sec = f64::from(params.sample_rate.unwrap_or(48_000));
    // The whole output in one allocation when the container declared no length (the caller
    // reserved it otherwise; the packets' durations include the encoder delay): growing it by
    // doubling while the later segments' buffers are alive would take over twice its size.
    let estimate = (total_secs * frames_per_sec).min(1e9) as usize;
    if mono.capacity() < estimate - estimate / 50 {
        mono.reserve_total(estimate + estimate / 100);
    }
    let decode_later =
        |start: usize, end: usize| -> Result<(Vec<f32>, u64, Option<String>), AudioError> {
            guarded(|| {
                let mut decoder = PacketDecoder::new(make_decoder(params)?, None, channels);
                let mut pre_roll = start;
                let mut pre_roll_secs = 0.0;
                while pre_roll > 0 && (pre_roll_secs < PRE_ROLL_SECS || start - pre_roll < 2) {
                    pre_roll -= 1;
                    pre_roll_secs += secs(&packets[pre_roll]);
                }
                for packet in &packets[pre_roll..start] {
                    decoder.decode(packet, None)?;
                }
                decoder.failed = 0;
                decoder.last_error = None;
                // One allocation for the segment (its packets' durations, 1% to spare).
                let segment_secs: f64 = packets[start..end].iter().map(secs).sum();
                let reserve = (segment_secs * 1.01 * frames_per_sec).min(1e9) as usize;
                let mut segment = Downmix::new(reserve, Trim::default());
                for packet in &packets[start..end] {
                    decoder.decode(packet, Some(&mut segment))?;
                }
                Ok((segment.into_samples(), decoder.failed, decoder.last_error))
            })
        };
    let (head, later) = rayon::join(
        || -> Result<(), AudioError> {
            for packet in &packets[starts[0]..starts[1]] {
                first.decode(packet, Some(mono))?;
            }
            Ok(())
        },
        || {
            starts[1..]
                .windows(2)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|bounds| decode_later(bounds[0], bounds[1]))
                .collect::<Vec<_>>()
        },
    );
    head?;
    for result in later {
        let (samples, failed, last_error) = result?;
        first.failed += failed;
        if last_error.is_some() {
            first.last_error = last_error;
        }
        mono.push_mono(&samples);
    }
    Ok(())
}

/// The raw-bytes fast path applies to interleaved PCM whose samples fill their container
/// (no bit shift), which is what symphonia's PCM decoder would decode one sample at a time.
fn raw_pcm_encoding(params: &AudioCodecParameters) -> Option<PcmEncoding> {
    use codec_ids::*;
    let (encoding, width) = match params.codec {
        CODEC_ID_PCM_U8 => (PcmEncoding::U8, 8),
        CODEC_ID_PCM_S8 => (PcmEncoding::S8, 8),
        CODEC_ID_PCM_S16LE => (PcmEncoding::S16Le, 16),
        CODEC_ID_PCM_S16BE => (PcmEncoding::S16Be, 16),
        CODEC_ID_PCM_S24LE => (PcmEncoding::S24Le, 24),
        CODEC_ID_PCM_S24BE => (PcmEncoding::S24Be, 24),
        CODEC_ID_PCM_S32LE => (PcmEncoding::S32Le, 32),
        CODEC_ID_PCM_S32BE => (PcmEncoding::S32Be, 32),
        CODEC_ID_PCM_F32LE => (PcmEncoding::F32Le, 32),
        CODEC_ID_PCM_F32BE => (PcmEncoding::F32Be, 32),
        CODEC_ID_PCM_F64LE => (PcmEncoding::F64Le, 64),
        CODEC_ID_PCM_F64BE => (PcmEncoding::F64Be, 64),
        _ => return None,
    };
    let full_width = |bits: Option<u32>| bits.is_none_or(|b| b == width);
    (full_width(params.bits_per_sample) && full_width(params.bits_per_coded_sample))
        .then_some(encoding)
}

fn classify_probe_error(err: SymphoniaError) -> AudioError {
    match err {
        SymphoniaError::Unsupported(_) => {
            AudioError::UnsupportedFormat("no supported container or codec recognised".into())
        }
        // The probe scans for a known marker and runs out of bytes when there is none.
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::UnsupportedFormat("no supported container or codec recognised".into())
        }
        // Demuxers reject impossible parameters themselves, with a static message (e.g. the
        // WAV reader's "riff: invalid channel count"); those are invalid streams, not damage.
        SymphoniaError::DecodeError(reason)
            if reason.contains("channel") || reason.contains("sample rate") =>
        {
            AudioError::InvalidStream(reason.to_owned())
        }
        other => classify_stream_error(other),
    }
}

fn classify_stream_error(err: SymphoniaError) -> AudioError {
    match err {
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Corrupt("the data ends in the middle of a header".into())
        }
        SymphoniaError::IoError(io) => AudioError::Io(io),
        SymphoniaError::Unsupported(what) => AudioError::UnsupportedCodec(what.to_owned()),
        other => AudioError::Corrupt(AudioError::one_line(other)),
    }
}

/// MP4/M4A gapless info: symphonia 0.6's isomp4 demuxer reads but does not apply edit lists
/// (its source says "TODO: Support edits") and the AAC decoder does not trim, so the edit list
/// (or, failing that, iTunes' `iTunSMPB` tag) is applied here.
/// Whether the first MP3 frame is a Xing/Info (VBR/CBR info) frame. Symphonia does not expose
/// this, so the first 8 KiB are read again: skip an ID3v2 tag, find the first frame sync and
/// look for the tag where the side information ends (at most 36 bytes into the frame).
fn mp3_has_info_frame(input: &Input) -> bool {
    let mut head = Vec::with_capacity(8192);
    let Ok(source) = input.open() else {
        return false;
    };
    if source.take(8192).read_to_end(&mut head).is_err() {
        return false;
    }
    let mut start = 0usize;
    if head.len() >= 10 && &head[..3] == b"ID3" {
        // Syncsafe 28-bit size, plus the 10-byte header (and a 10-byte footer if flagged).
        let size = head[6..10]
            .iter()
            .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7f));
        let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
        start = 10 + size + footer;
        if start >= head.len() {
            // A large ID3 tag (cover art): read past it.
            let Ok(mut source) = input.open() else {
                return false;
            };
            if source.seek(SeekFrom::Start(start as u64)).is_err() {
                return false;
            }
            head.clear();
            if source.take(8192).read_to_end(&mut head).is_err() {
                return false;
            }
            start = 0;
        }
    }
    let Some(sync) = head[start.min(head.len())..]
        .windows(2)
        .position(|w| w[0] == 0xff && w[1] & 0xe0 == 0xe0)
    else {
        return false;
    };
    let frame = &head[start + sync..];
    frame
        .get(..40.min(frame.len()))
        .is_some_and(|bytes| bytes.windows(4).any(|w| w == b"Xing" || w == b"Info"))
}

fn mp4_trim(input: &Input, format: &mut dyn FormatReader, sample_rate: u32) -> Trim {
    let from_edit_list = input.open().ok().and_then(|mut source| {
        // mp4parse reads from the start; symphonia's own reader keeps its separate handle.
        source.seek(SeekFrom::Start(0)).ok()?;
        mp4_gapless::edit_list_trim(&mut std::io::BufReader::new(source), sample_rate)
    });
    if let Some(trim) = from_edit_list
        && trim.skip_frames > 0
    {
        return trim;
    }
    let itunsmpb = format.metadata().skip_to_latest().and_then(|revision| {
        revision
            .media
            .tags
            .iter()
            .find_map(|tag| match &tag.raw.value {
                RawValue::String(value)
                    if tag.raw.key.to_ascii_lowercase().ends_with("itunsmpb") =>
                {
                    mp4_gapless::parse_itunsmpb(value)
                }
                _ => None,
            })
    });
    itunsmpb.or(from_edit_list).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interleaved 3-channel PCM in every fast-path encoding, decoded both through the raw
    /// bytes path and through symphonia's own PCM decoder: the results must be identical.
    #[test]
    fn pcm_fast_path_matches_symphonia_decoder() {
        let frames = 5000usize;
        let channels = 3u16;
        let cases: [(u16, u16, bool); 6] = [
            (1, 8, false),
            (1, 16, false),
            (1, 24, false),
            (1, 32, false),
            (3, 32, true),
            (3, 64, true),
        ];
        for (format_tag, bits, is_float) in cases {
            let mut data = Vec::new();
            for i in 0..frames * usize::from(channels) {
                let x = ((i as f64) * 0.013).sin() * 0.9 - 0.05;
                match (bits, is_float) {
                    (8, _) => data.push(((x * 127.0) as i32 + 128) as u8),
                    (16, _) => data.extend_from_slice(&((x * 32767.0) as i16).to_le_bytes()),
                    (24, _) => {
                        data.extend_from_slice(&((x * 8_388_607.0) as i32).to_le_bytes()[..3])
                    }
                    (32, false) => data.extend_from_slice(&((x * 2.0e9) as i32).to_le_bytes()),
                    (32, true) => data.extend_from_slice(&(x as f32).to_le_bytes()),
                    _ => data.extend_from_slice(&x.to_le_bytes()),
                }
            }
            let wav = crate::test_support::wav_bytes(format_tag, channels, 22_050, bits, &data);
            let input = Input::Bytes(SharedBytes(Arc::new(wav)));
            let fast = decode_with_symphonia(&input, None, 1 << 20, true).unwrap();
            let reference = decode_with_symphonia(&input, None, 1 << 20, false).unwrap();
            assert_eq!(fast.samples.len(), frames, "{bits}-bit");
            assert_eq!(fast, reference, "{bits}-bit float={is_float}");
        }
    }
}
