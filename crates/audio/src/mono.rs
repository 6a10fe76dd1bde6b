//! Downmix to mono: the mean of the channels (numpy's `mean(axis=0)`, as `librosa.to_mono`),
//! written packet by packet into one growing `Vec<f32>` so that no multi-channel copy of the
//! whole file ever exists. Also applies container-declared encoder delay/padding ([`Trim`]).
//!
//! Two entry points: decoded symphonia buffers ([`Downmix::push_planar`]) and raw interleaved
//! PCM bytes ([`Downmix::push_interleaved`]). The second is a fast path for uncompressed
//! files: symphonia's PCM decoder reads one sample at a time through a bounds-checked reader
//! (about 1 ns a sample), which alone would use up the front end's budget for a 30 s WAV,
//! whereas converting the packet bytes in one tight loop vectorises. The conversions are the
//! same as symphonia's and libsndfile's (integer / 2^(bits-1), unsigned centred first), and a
//! unit test checks both paths agree bit for bit.

use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio as _, AudioBuffer, GenericAudioBufferRef};

use crate::AudioError;

/// Encoder delay and length that the container declares but the decoder does not apply itself.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trim {
    /// Leading decoded frames to drop (encoder priming / decoder delay).
    pub skip_frames: u64,
    /// Valid frames after the skip; anything beyond is encoder padding.
    pub valid_frames: Option<u64>,
}

/// Layout of one sample in an interleaved PCM byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PcmEncoding {
    U8,
    S8,
    S16Le,
    S16Be,
    S24Le,
    S24Be,
    S32Le,
    S32Be,
    F32Le,
    F32Be,
    F64Le,
    F64Be,
    /// G.711 μ-law, expanded to 16-bit first (as libsndfile does).
    MuLaw,
    /// G.711 A-law, expanded to 16-bit first.
    ALaw,
}

impl PcmEncoding {
    pub(crate) fn bytes_per_sample(self) -> usize {
        match self {
            PcmEncoding::U8 | PcmEncoding::S8 | PcmEncoding::MuLaw | PcmEncoding::ALaw => 1,
            PcmEncoding::S16Le | PcmEncoding::S16Be => 2,
            PcmEncoding::S24Le | PcmEncoding::S24Be => 3,
            PcmEncoding::S32Le | PcmEncoding::S32Be | PcmEncoding::F32Le | PcmEncoding::F32Be => 4,
            PcmEncoding::F64Le | PcmEncoding::F64Be => 8,
        }
    }
}

/// Accumulates mono samples; see the module doc.
pub(crate) struct Downmix {
    samples: Vec<f32>,
    skip_remaining: u64,
    valid_frames: Option<u64>,
    /// Frames handed in (after the decoder's own trimming, before ours).
    pub decoded_frames: u64,
}

impl Downmix {
    pub(crate) fn new(reserve_frames: usize, trim: Trim) -> Self {
        Downmix {
            samples: Vec::with_capacity(reserve_frames),
            skip_remaining: trim.skip_frames,
            valid_frames: trim.valid_frames,
            decoded_frames: 0,
        }
    }

    /// The frame range of an incoming block of `frames` that survives the trim.
    fn keep_range(&mut self, frames: usize) -> std::ops::Range<usize> {
        self.decoded_frames += frames as u64;
        let start = self.skip_remaining.min(frames as u64) as usize;
        self.skip_remaining -= start as u64;
        let mut end = frames;
        if let Some(valid) = self.valid_frames {
            let room = valid.saturating_sub(self.samples.len() as u64);
            end = end.min(start.saturating_add(usize::try_from(room).unwrap_or(usize::MAX)));
        }
        start..end.max(start)
    }

    /// Appends mono samples decoded elsewhere (a segment of a file decoded on another thread),
    /// trimmed as if they had come in as decoded buffers. The copy runs on the caller's rayon
    /// pool: it is a long signal's last serial step (52 ms for 280 s at 48 kHz on one thread).
    pub(crate) fn push_mono(&mut self, samples: &[f32]) {
        use rayon::prelude::*;
        let range = self.keep_range(samples.len());
        self.samples
            .par_extend(samples[range].par_iter().copied().with_min_len(1 << 16));
    }

    /// Appends a decoded symphonia buffer of any sample type.
    pub(crate) fn push_buffer(
        &mut self,
        buffer: &GenericAudioBufferRef<'_>,
    ) -> Result<(), AudioError> {
        match buffer {
            GenericAudioBufferRef::U8(b) => self.push_planar(b),
            GenericAudioBufferRef::U16(b) => self.push_planar(b),
            GenericAudioBufferRef::U24(b) => self.push_planar(b),
            GenericAudioBufferRef::U32(b) => self.push_planar(b),
            GenericAudioBufferRef::S8(b) => self.push_planar(b),
            GenericAudioBufferRef::S16(b) => self.push_planar(b),
            GenericAudioBufferRef::S24(b) => self.push_planar(b),
            GenericAudioBufferRef::S32(b) => self.push_planar(b),
            GenericAudioBufferRef::F32(b) => self.push_planar(b),
            GenericAudioBufferRef::F64(b) => self.push_planar(b),
        }
    }

    /// Monomorphised per sample type so the conversion loops vectorise.
    fn push_planar<S>(&mut self, buffer: &AudioBuffer<S>) -> Result<(), AudioError>
    where
        S: Sample,
        f32: FromSample<S>,
    {
        let planes = buffer.num_planes();
        if buffer.frames() == 0 {
            return Ok(());
        }
        if planes == 0 {
            return Err(AudioError::InvalidStream(
                "decoded audio has 0 channels".into(),
            ));
        }
        let range = self.keep_range(buffer.frames());
        if range.is_empty() {
            return Ok(());
        }
        let base = self.samples.len();
        let mut planes_iter = buffer.iter_planes();
        if let Some(first) = planes_iter.next() {
            let first = first.get(range.clone()).unwrap_or(&[]);
            self.samples
                .extend(first.iter().map(|&s| f32::from_sample(s)));
        }
        if planes > 1 {
            let out = &mut self.samples[base..];
            for plane in planes_iter {
                let plane = plane.get(range.clone()).unwrap_or(&[]);
                for (acc, &s) in out.iter_mut().zip(plane) {
                    *acc += f32::from_sample(s);
                }
            }
            // Divide (not multiply by 1/n) to match numpy's `mean` bit for bit.
            let n = planes as f32;
            for acc in out.iter_mut() {
                *acc /= n;
            }
        }
        Ok(())
    }

    /// Appends whole interleaved frames of raw PCM; a trailing partial frame is ignored.
    pub(crate) fn push_interleaved(&mut self, data: &[u8], channels: usize, encoding: PcmEncoding) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.push_interleaved_avx2(data, channels, encoding) };
        }
        self.push_interleaved_portable(data, channels, encoding)
    }

    /// The conversion loops with 8 lanes (the build targets baseline x86-64, SSE2): the same
    /// operations per sample, so the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn push_interleaved_avx2(&mut self, data: &[u8], channels: usize, encoding: PcmEncoding) {
        self.push_interleaved_portable(data, channels, encoding)
    }

    #[inline(always)]
    fn push_interleaved_portable(&mut self, data: &[u8], channels: usize, encoding: PcmEncoding) {
        let frame_bytes = encoding.bytes_per_sample() * channels;
        if frame_bytes == 0 {
            return;
        }
        let range = self.keep_range(data.len() / frame_bytes);
        let data = &data[range.start * frame_bytes..range.end * frame_bytes];
        match encoding {
            PcmEncoding::U8 => {
                self.extend_mono::<1>(data, channels, |b| (f32::from(b[0]) - 128.0) / 128.0)
            }
            PcmEncoding::S8 => {
                self.extend_mono::<1>(data, channels, |b| f32::from(b[0] as i8) / 128.0)
            }
            PcmEncoding::S16Le => self.extend_mono::<2>(data, channels, |b| {
                f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0
            }),
            PcmEncoding::S16Be => self.extend_mono::<2>(data, channels, |b| {
                f32::from(i16::from_be_bytes([b[0], b[1]])) / 32_768.0
            }),
            PcmEncoding::S24Le => self.extend_mono::<3>(data, channels, |b| {
                (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
            }),
            PcmEncoding::S24Be => self.extend_mono::<3>(data, channels, |b| {
                (i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8) as f32 / 8_388_608.0
            }),
            PcmEncoding::S32Le => self.extend_mono::<4>(data, channels, |b| {
                i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0
            }),
            PcmEncoding::S32Be => self.extend_mono::<4>(data, channels, |b| {
                i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0
            }),
            PcmEncoding::F32Le => self.extend_mono::<4>(data, channels, |b| {
                f32::from_le_bytes([b[0], b[1], b[2], b[3]])
            }),
            PcmEncoding::F32Be => self.extend_mono::<4>(data, channels, |b| {
                f32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }),
            PcmEncoding::F64Le => self.extend_mono::<8>(data, channels, |b| {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }),
            PcmEncoding::F64Be => self.extend_mono::<8>(data, channels, |b| {
                f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }),
            PcmEncoding::MuLaw => self.extend_mono::<1>(data, channels, |b| {
                f32::from(audio_codec_algorithms::decode_ulaw(b[0])) / 32_768.0
            }),
            PcmEncoding::ALaw => self.extend_mono::<1>(data, channels, |b| {
                f32::from(audio_codec_algorithms::decode_alaw(b[0])) / 32_768.0
            }),
        }
    }

    /// `convert` reads one sample from the start of its slice. Mono and stereo get their own
    /// loops because fixed-size chunks are what lets the compiler vectorise.
    #[inline(always)]
    fn extend_mono<const BYTES: usize>(
        &mut self,
        data: &[u8],
        channels: usize,
        convert: impl Fn(&[u8; BYTES]) -> f32,
    ) {
        let sample = |chunk: &[u8]| convert(chunk.try_into().expect("chunk has BYTES bytes"));
        match channels {
            1 => self.samples.extend(data.chunks_exact(BYTES).map(sample)),
            2 => self.samples.extend(
                data.chunks_exact(2 * BYTES)
                    .map(|frame| (sample(&frame[..BYTES]) + sample(&frame[BYTES..])) / 2.0),
            ),
            n => {
                let divisor = n as f32;
                self.samples
                    .extend(data.chunks_exact(n * BYTES).map(|frame| {
                        frame
                            .chunks_exact(BYTES)
                            .map(sample)
                            .fold(0.0f32, |acc, s| acc + s)
                            / divisor
                    }))
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.samples.capacity()
    }

    /// Makes room for `frames` samples in all, in one allocation.
    pub(crate) fn reserve_total(&mut self, frames: usize) {
        self.samples
            .reserve_exact(frames.saturating_sub(self.samples.len()));
    }

    /// The samples as they are, without [`Self::finish`]'s shrink (which copies a long signal).
    pub(crate) fn into_samples(self) -> Vec<f32> {
        self.samples
    }

    /// The samples, with spare capacity given back when it is more than 1/32 of them: a
    /// reservation from a length estimate (see `decode_split`) is kept rather than copied.
    pub(crate) fn finish(mut self) -> Vec<f32> {
        if self.samples.capacity() - self.samples.len() > self.samples.len() / 32 {
            self.samples.shrink_to_fit();
        }
        self.samples
    }
}
