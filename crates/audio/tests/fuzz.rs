//! Fuzzing `decode_bytes` with proptest: random bytes, and real file headers with bytes flipped,
//! cut off, overwritten or spliced from another format. Nothing may panic (the test has no
//! `catch_unwind`: a panic escaping `decode_bytes` fails it); a success must be real audio and
//! an error a single line. Decoder panics inside symphonia are caught by `decode_bytes` and
//! become `Corrupt` (the fuzzer finds one: an overflowing `channels * bits / 8` in symphonia
//! 0.6.1's WAV `fmt` parser, a panic in builds with overflow checks). Runs in well under a
//! second; raise the case counts locally for a deeper search.

mod common;

use std::sync::OnceLock;

use common::*;
use musicrec_audio::decode_bytes;
use proptest::prelude::*;

/// Up to this many leading bytes of each real file are used as seeds: headers plus a few
/// packets, small enough that a decode takes microseconds.
const SEED_BYTES: usize = 6_000;

fn seeds() -> &'static [(Vec<u8>, &'static str)] {
    static SEEDS: OnceLock<Vec<(Vec<u8>, &'static str)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let tone = tone_pcm16(500, 2, 8_000);
        let mut seeds = vec![
            (wav_bytes(1, 2, 8_000, 16, tone.len() as u32, &tone), "wav"),
            (au_bytes(tone.len() as u32, 3, 8_000, 2, &tone), "au"),
        ];
        // Outside CI the shared data may be absent; the crafted seeds still run.
        if let Some(data) = shared_data() {
            let files = [
                ("formats/dubstep.wav", "wav"),
                ("formats/dubstep.flac", "flac"),
                ("formats/dubstep.mp3", "mp3"),
                ("formats/dubstep.ogg", "ogg"),
                ("formats/dubstep.aac", "aac"),
                ("formats/jazz.00000.au", "au"),
                ("formats/sax-tenor-24bit-48k.wav", "wav"),
            ];
            for (file, ext) in files {
                let mut bytes = std::fs::read(data.join(file)).unwrap();
                bytes.truncate(SEED_BYTES);
                seeds.push((bytes, ext));
            }
        }
        seeds
    })
}

fn check(bytes: Vec<u8>, hint: Option<&str>) {
    match decode_bytes(bytes, hint) {
        Ok(audio) => {
            assert!(!audio.samples.is_empty());
            assert!(audio.sample_rate > 0);
        }
        Err(err) => {
            let text = err.to_string();
            assert!(!text.is_empty() && !text.contains('\n'), "{text:?}");
        }
    }
}

#[test]
fn a_panic_inside_symphonia_becomes_an_error() {
    // 65 535 channels of 65 535-bit samples: symphonia multiplies them in a u16.
    let err = decode_bytes(wav_bytes(1, u16::MAX, 8_000, u16::MAX, 4, &[0; 4]), None).unwrap_err();
    assert!(!err.to_string().contains('\n'), "{err}");
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        mask: u8,
    },
    Truncate {
        at: usize,
    },
    Overwrite {
        at: usize,
        bytes: Vec<u8>,
    },
    Splice {
        at: usize,
        seed: usize,
        from: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), 1usize..512)
            .prop_map(|(at, seed, from, len)| Mutation::Splice { at, seed, from, len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    // Mutations aim at the first 256 bytes half the time: that is where the headers are.
    let pos = |at: usize, len: usize| {
        if len == 0 {
            0
        } else if at.is_multiple_of(2) {
            (at / 2) % len.min(256)
        } else {
            (at / 2) % len
        }
    };
    match mutation {
        Mutation::Flip { at, mask } => {
            let i = pos(*at, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b ^= mask;
            }
        }
        Mutation::Truncate { at } => {
            let i = pos(*at, bytes.len());
            bytes.truncate(i);
        }
        Mutation::Overwrite { at, bytes: patch } => {
            let i = pos(*at, bytes.len());
            for (k, &b) in patch.iter().enumerate() {
                if let Some(slot) = bytes.get_mut(i + k) {
                    *slot = b;
                }
            }
        }
        Mutation::Splice {
            at,
            seed,
            from,
            len,
        } => {
            let donor = &seeds()[seed % seeds().len()].0;
            let start = from % donor.len().max(1);
            let piece = &donor[start..(start + len).min(donor.len())];
            let i = pos(*at, bytes.len());
            bytes.splice(i..i, piece.iter().copied());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_headers_never_panic(
        seed in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        hinted in any::<bool>(),
    ) {
        let (original, ext) = &seeds()[seed % seeds().len()];
        let mut bytes = original.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(bytes, hinted.then_some(*ext));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        hint in prop::option::of(prop::sample::select(vec!["wav", "mp3", "flac", "ogg", "aac", "m4a", "au", "opus"])),
    ) {
        check(bytes, hint);
    }

    #[test]
    fn random_bytes_behind_a_magic_number_never_panic(
        magic in prop::sample::select(vec![&b"RIFF"[..], b"fLaC", b"OggS", b"ID3\x03", b".snd", b"FORM", b"\xff\xf1", b"\x00\x00\x00\x20ftypM4A "]),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend(body);
        check(bytes, None);
    }
}
