//! Peak heap use while decoding stays near the size of the decoded mono output (the brief
//! allows about 3x): the downmix goes packet by packet into one `Vec` reserved from the
//! declared length, and files are streamed, not read whole. A long lossy file decoded on
//! several threads holds its packets and its later segments for a while: up to 2.5x.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use musicrec_audio::decode_file;

/// Tracks live and peak heap bytes of this test binary.
struct PeakTracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakTracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: PeakTracking = PeakTracking;

/// Decodes `path` and returns (peak extra heap bytes during the call, decoded mono bytes).
fn peak_while_decoding(path: &std::path::Path) -> (usize, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let audio = decode_file(path).unwrap();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    (peak, audio.samples.len() * 4)
}

#[test]
fn decoding_needs_little_more_than_the_mono_output() {
    let dir = tempfile::tempdir().unwrap();
    // Ten minutes of 16-bit stereo at 22.05 kHz: a 53 MB file, 53 MB of mono f32.
    let frames = 10 * 60 * 22_050;
    let wav_path = dir.path().join("ten_minutes.wav");
    {
        let second = tone_pcm16(22_050, 2, 22_050);
        let data_len = (frames * 4) as u32;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&wav_path).unwrap());
        file.write_all(&wav_bytes(1, 2, 22_050, 16, data_len, &[]))
            .unwrap();
        for _ in 0..frames / 22_050 {
            file.write_all(&second).unwrap();
        }
    }
    let (peak, mono) = peak_while_decoding(&wav_path);
    eprintln!(
        "10-min WAV: peak {:.1} MB for {:.1} MB mono ({:.2}x)",
        peak as f64 / 1e6,
        mono as f64 / 1e6,
        peak as f64 / mono as f64
    );
    assert_eq!(mono, frames * 4);
    assert!(
        peak as f64 <= 1.2 * mono as f64,
        "peak {peak} B for {mono} B of output"
    );

    // A compressed stereo file: one minute of Ogg Vorbis, decoded on one thread and on three.
    // On three it is cut into three segments of 20 s: the packets are held, and the later two
    // segments are decoded into buffers of their own while the output's full length is already
    // reserved; they are copied into it, in order, at the end (measured: 2.38x).
    if let Some(data) = shared_data() {
        let path = data.join("formats/vibe-ace-kevin-macleod.ogg");
        for (threads, bound) in [(1, 1.5), (3, 2.5)] {
            let (peak, mono) = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| peak_while_decoding(&path));
            eprintln!(
                "61 s Vorbis, {threads} thread(s): peak {:.1} MB for {:.1} MB mono ({:.2}x)",
                peak as f64 / 1e6,
                mono as f64 / 1e6,
                peak as f64 / mono as f64
            );
            assert!(
                peak as f64 <= bound * mono as f64,
                "{threads} thread(s): peak {peak} B for {mono} B of output"
            );
        }
    }
}
