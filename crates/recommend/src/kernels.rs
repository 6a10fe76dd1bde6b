//! The arithmetic inner loops of the brute-force scan: dot products and distances over contiguous
//! row-major f32 rows, and the int8 x i16 dot product over blocked quantised rows.
//!
//! The f32 loops are plain Rust written for LLVM's auto-vectoriser (fixed-width `chunks_exact`
//! accumulators, no indexing in the hot loop). They are hand-written rather than a BLAS crate
//! because each is a one-line reduction and a BLAS sgemv would need a matrix copy per query layout
//! (blocked int8, per-row scales) that no BLAS offers. The workspace builds for the baseline x86-64
//! target (SSE2), so each kernel is compiled twice: once generic and once inside a
//! `#[target_feature(enable = "avx2,fma")]` function chosen at run time (a ten-line dispatch instead
//! of the `multiversion` proc-macro crate). The int8 kernel alone uses AVX2 intrinsics.

/// Rows per quantised block. A block stores its 16 rows a pair of dimensions at a time: for the pair
/// `(2p, 2p + 1)` the 16 rows' two bytes lie side by side (32 bytes), so one 32-byte load
/// sign-extends to two registers of 8 rows x 2 dimensions that `vpmaddwd` multiplies by the i16
/// query pair and sums into the rows' i32 scores: no horizontal sums, 32 multiply-adds in a handful
/// of instructions (twice the f32 rate). The width is padded to an even number of dimensions.
pub(crate) const BLOCK_ROWS: usize = 16;

/// Position of row `j` (within its block), dimension `d`, inside a block.
#[inline(always)]
pub(crate) fn block_offset(j: usize, d: usize) -> usize {
    (d / 2) * 2 * BLOCK_ROWS + j * 2 + d % 2
}

/// A query quantised to i16 for the int8 first pass: `pairs[p] = (q[2p], q[2p+1]) / scale`.
pub(crate) struct I16Query {
    pairs: Vec<[i16; 2]>,
    scale: f32,
}

impl I16Query {
    /// Quantises `query` (padded with zeros to `padded_width`, which is even). The i16 range is cut
    /// so that `127 * |q_i|` summed over every dimension cannot overflow the i32 accumulators.
    pub(crate) fn new(query: &[f32], padded_width: usize) -> Self {
        debug_assert!(padded_width.is_multiple_of(2) && query.len() <= padded_width);
        let max_abs = query.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let limit = (i32::MAX as usize / (127 * padded_width.max(1))).clamp(1, 16_383) as f32;
        let scale = if max_abs > 0.0 { max_abs / limit } else { 0.0 };
        let value = |d: usize| match (query.get(d), scale > 0.0) {
            (Some(x), true) => (x / scale).round().clamp(-limit, limit) as i16,
            _ => 0,
        };
        let pairs = (0..padded_width / 2)
            .map(|p| [value(2 * p), value(2 * p + 1)])
            .collect();
        Self { pairs, scale }
    }
}

/// Accumulator width of the f32 row kernels: two 8-lane AVX registers (or four SSE ones), enough
/// independent sums to hide the add latency.
const LANES: usize = 16;

#[inline(always)]
fn fmadd<const FMA: bool>(a: f32, b: f32, acc: f32) -> f32 {
    // `mul_add` is one instruction with FMA and a slow libm call without it.
    if FMA { a.mul_add(b, acc) } else { a * b + acc }
}

#[inline(always)]
fn dot_impl<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] = fmadd::<FMA>(xa[i], xb[i], acc[i]);
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail = fmadd::<FMA>(*x, *y, tail);
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn squared_distance_impl<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for i in 0..LANES {
            let d = xa[i] - xb[i];
            acc[i] = fmadd::<FMA>(d, d, acc[i]);
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        tail = fmadd::<FMA>(d, d, tail);
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn manhattan_impl(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += (xa[i] - xb[i]).abs();
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).sum();
    acc.iter().sum::<f32>() + tail
}

/// `sum |a_i - b_i|^p` (no vectorisation: `powf` is a libm call).
pub(crate) fn minkowski_sum(a: &[f32], b: &[f32], p: f32) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs().powf(p)).sum()
}

/// Scores of whole blocks of quantised rows, portable version:
/// `out[j] = scale[j] * query.scale * sum_d q[d] * row_j[d]`, exact in i32.
fn int8_blocks_generic(blocks: &[i8], query: &I16Query, scales: &[f32], out: &mut [f32]) {
    let block_len = query.pairs.len() * 2 * BLOCK_ROWS;
    for ((block, s), o) in blocks
        .chunks_exact(block_len)
        .zip(scales.chunks_exact(BLOCK_ROWS))
        .zip(out.chunks_exact_mut(BLOCK_ROWS))
    {
        let mut acc = [0i32; BLOCK_ROWS];
        for (pair, q) in block.chunks_exact(2 * BLOCK_ROWS).zip(&query.pairs) {
            for j in 0..BLOCK_ROWS {
                acc[j] += pair[2 * j] as i32 * q[0] as i32 + pair[2 * j + 1] as i32 * q[1] as i32;
            }
        }
        for ((o, a), s) in o.iter_mut().zip(acc).zip(s) {
            *o = a as f32 * s * query.scale;
        }
    }
}

/// [`int8_blocks_generic`] with AVX2 intrinsics: `vpmovsxbw` + `vpmaddwd` per dimension pair.
/// Written with intrinsics because LLVM does not turn the portable loop into `vpmaddwd`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn int8_blocks_avx2(blocks: &[i8], query: &I16Query, scales: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let block_len = query.pairs.len() * 2 * BLOCK_ROWS;
    let broadcast: Vec<__m256i> = query
        .pairs
        .iter()
        .map(|q| _mm256_set1_epi32((q[0] as u16 as u32 | (q[1] as u16 as u32) << 16) as i32))
        .collect();
    for ((block, s), o) in blocks
        .chunks_exact(block_len)
        .zip(scales.chunks_exact(BLOCK_ROWS))
        .zip(out.chunks_exact_mut(BLOCK_ROWS))
    {
        let (mut low, mut high) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for (pair, q) in block.chunks_exact(2 * BLOCK_ROWS).zip(&broadcast) {
            // SAFETY: `pair` is exactly 32 bytes; the load is unaligned.
            let bytes = unsafe { _mm256_loadu_si256(pair.as_ptr().cast()) };
            let rows_0_7 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes));
            let rows_8_15 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256::<1>(bytes));
            low = _mm256_add_epi32(low, _mm256_madd_epi16(rows_0_7, *q));
            high = _mm256_add_epi32(high, _mm256_madd_epi16(rows_8_15, *q));
        }
        let mut acc = [0.0f32; BLOCK_ROWS];
        // SAFETY: `acc` holds 16 f32, two unaligned 8-lane stores.
        unsafe {
            _mm256_storeu_ps(acc.as_mut_ptr(), _mm256_cvtepi32_ps(low));
            _mm256_storeu_ps(acc.as_mut_ptr().add(8), _mm256_cvtepi32_ps(high));
        }
        for ((o, a), s) in o.iter_mut().zip(acc).zip(s) {
            *o = a * s * query.scale;
        }
    }
}

/// Approximate scores of whole blocks of quantised rows (`out.len()` a multiple of [`BLOCK_ROWS`],
/// `blocks` laid out as [`block_offset`] says).
pub(crate) fn int8_blocks(blocks: &[i8], query: &I16Query, scales: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { int8_blocks_avx2(blocks, query, scales, out) };
    }
    int8_blocks_generic(blocks, query, scales, out)
}

#[inline(always)]
fn dot_rows_impl<const FMA: bool>(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *o = dot_impl::<FMA>(row, query);
    }
}

#[inline(always)]
fn squared_distance_rows_impl<const FMA: bool>(
    rows: &[f32],
    dim: usize,
    query: &[f32],
    out: &mut [f32],
) {
    for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *o = squared_distance_impl::<FMA>(row, query);
    }
}

#[inline(always)]
fn manhattan_rows_impl(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *o = manhattan_impl(row, query);
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    // The std macro caches the CPUID answer in an atomic: cheap enough to ask once per tile.
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Defines a public kernel that runs its `_impl` compiled for AVX2+FMA when the CPU has them.
macro_rules! dispatched {
    ($(#[$doc:meta])* fn $name:ident / $avx:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? => $body:expr, $generic:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx($($arg: $ty),*) $(-> $ret)? { $body }

        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if has_avx2_fma() {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { $avx($($arg),*) };
            }
            $generic
        }
    };
}

dispatched!(
    /// Dot product of two equal-length vectors.
    fn dot / dot_avx2(a: &[f32], b: &[f32]) -> f32 => dot_impl::<true>(a, b), dot_impl::<false>(a, b)
);
dispatched!(
    /// Squared Euclidean distance.
    fn squared_distance / squared_distance_avx2(a: &[f32], b: &[f32]) -> f32
        => squared_distance_impl::<true>(a, b), squared_distance_impl::<false>(a, b)
);
dispatched!(
    /// L1 distance.
    fn manhattan_distance / manhattan_avx2(a: &[f32], b: &[f32]) -> f32
        => manhattan_impl(a, b), manhattan_impl(a, b)
);
dispatched!(
    /// `out[i] = rows[i] . query` for row-major `rows` of width `dim`.
    fn dot_rows / dot_rows_avx2(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32])
        => dot_rows_impl::<true>(rows, dim, query, out), dot_rows_impl::<false>(rows, dim, query, out)
);
dispatched!(
    /// `out[i] = |rows[i] - query|^2`.
    fn squared_distance_rows / squared_distance_rows_avx2(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32])
        => squared_distance_rows_impl::<true>(rows, dim, query, out),
           squared_distance_rows_impl::<false>(rows, dim, query, out)
);
dispatched!(
    /// `out[i] = |rows[i] - query|_1`.
    fn manhattan_rows / manhattan_rows_avx2(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32])
        => manhattan_rows_impl(rows, dim, query, out), manhattan_rows_impl(rows, dim, query, out)
);
/// `out[i] = sum |rows[i] - query|^p`.
pub(crate) fn minkowski_rows(rows: &[f32], dim: usize, query: &[f32], p: f32, out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
        *o = minkowski_sum(row, query, p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    #[test]
    fn kernels_agree_with_naive_sums_for_awkward_lengths() {
        for len in [1usize, 7, 16, 17, 68, 128, 131] {
            let a: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.1)
                .collect();
            let b: Vec<f32> = (0..len)
                .map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.2)
                .collect();
            assert!(
                (dot(&a, &b) as f64 - naive_dot(&a, &b)).abs() < 1e-4,
                "len {len}"
            );
            let sq: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum();
            assert!((squared_distance(&a, &b) as f64 - sq).abs() < 1e-4);
            let l1: f64 = a.iter().zip(&b).map(|(x, y)| ((x - y) as f64).abs()).sum();
            assert!((manhattan_distance(&a, &b) as f64 - l1).abs() < 1e-4);
            let rows: Vec<f32> = a.iter().chain(&b).copied().collect();
            let mut out = [0.0f32; 2];
            dot_rows(&rows, len, &b, &mut out);
            assert_eq!(out, [dot(&a, &b), dot(&b, &b)]);
        }
    }

    #[test]
    fn int8_blocks_compute_scaled_dots_on_both_paths() {
        for dim in [5usize, 6, 88, 131] {
            let padded = dim.next_multiple_of(2);
            let rows: Vec<Vec<i8>> = (0..2 * BLOCK_ROWS)
                .map(|j| {
                    (0..dim)
                        .map(|d| ((j as i32 * 7 - d as i32 * 13) % 128) as i8)
                        .collect()
                })
                .collect();
            let mut blocks = vec![0i8; rows.len() * padded];
            for (r, row) in rows.iter().enumerate() {
                let base = (r / BLOCK_ROWS) * BLOCK_ROWS * padded;
                for (d, &x) in row.iter().enumerate() {
                    blocks[base + block_offset(r % BLOCK_ROWS, d)] = x;
                }
            }
            let query: Vec<f32> = (0..dim).map(|d| ((d * 5 % 9) as f32 - 4.0) * 0.3).collect();
            let scales: Vec<f32> = (0..rows.len()).map(|j| 0.01 * (j + 1) as f32).collect();
            let q = I16Query::new(&query, padded);
            let mut fast = vec![0.0f32; rows.len()];
            let mut portable = vec![0.0f32; rows.len()];
            int8_blocks(&blocks, &q, &scales, &mut fast);
            int8_blocks_generic(&blocks, &q, &scales, &mut portable);
            for j in 0..rows.len() {
                let expect: f32 = rows[j]
                    .iter()
                    .zip(&query)
                    .map(|(x, q)| *x as f32 * q)
                    .sum::<f32>()
                    * scales[j];
                // The query's i16 rounding costs at most 127 * dim * scale / 2 per row.
                let tolerance = 1e-4 + 127.0 * dim as f32 * q.scale * scales[j];
                assert!(
                    (fast[j] - expect).abs() <= tolerance,
                    "dim {dim} row {j}: {} vs {expect}",
                    fast[j]
                );
                assert_eq!(
                    fast[j], portable[j],
                    "dim {dim} row {j}: AVX2 and portable differ"
                );
            }
        }
    }

    #[test]
    fn i16_query_cannot_overflow_wide_rows() {
        let padded = 20_000;
        let q = I16Query::new(&vec![1.0f32; padded], padded);
        let worst: i64 = q
            .pairs
            .iter()
            .map(|p| 127 * (p[0] as i64 + p[1] as i64))
            .sum();
        assert!(worst <= i32::MAX as i64, "{worst}");
    }
}
