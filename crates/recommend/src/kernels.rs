//! The arithmetic inner loops of the brute-force scan: dot products and distances over contiguous
//! row-major f32 rows, and the int8 dot product over column-blocked quantised rows.
//!
//! The loops are plain Rust written for LLVM's auto-vectoriser (fixed-width `chunks_exact`
//! accumulators, no indexing in the hot loop). They are hand-written rather than a BLAS crate
//! because each is a one-line reduction and a BLAS sgemv would need a matrix copy per query layout
//! (blocked int8, per-row scales) that no BLAS offers. The workspace builds for the baseline x86-64
//! target (SSE2), so each kernel is compiled twice: once generic and once inside a
//! `#[target_feature(enable = "avx2,fma")]` function chosen at run time (a ten-line dispatch instead
//! of the `multiversion` proc-macro crate).

/// Rows per quantised block: the int8 matrix stores 16 rows column by column so that one dimension
/// of 16 rows is one contiguous 16-byte load and the scores of 16 rows accumulate in two AVX lanes
/// sets with no horizontal sums and no padding of the dimension.
pub(crate) const BLOCK_ROWS: usize = 16;

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

/// Scores of one block of [`BLOCK_ROWS`] quantised rows: `out[j] = scale[j] * sum_d q[d] * block[d][j]`.
#[inline(always)]
fn int8_block_impl<const FMA: bool>(block: &[i8], query: &[f32], scales: &[f32], out: &mut [f32]) {
    let mut acc = [0.0f32; BLOCK_ROWS];
    for (column, &q) in block.chunks_exact(BLOCK_ROWS).zip(query) {
        for j in 0..BLOCK_ROWS {
            acc[j] = fmadd::<FMA>(q, column[j] as f32, acc[j]);
        }
    }
    for ((o, a), s) in out.iter_mut().zip(acc).zip(scales) {
        *o = a * s;
    }
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

#[inline(always)]
fn int8_blocks_impl<const FMA: bool>(
    blocks: &[i8],
    padded_dim: usize,
    query: &[f32],
    scales: &[f32],
    out: &mut [f32],
) {
    for ((block, s), o) in blocks
        .chunks_exact(padded_dim * BLOCK_ROWS)
        .zip(scales.chunks_exact(BLOCK_ROWS))
        .zip(out.chunks_exact_mut(BLOCK_ROWS))
    {
        int8_block_impl::<FMA>(block, query, s, o);
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
dispatched!(
    /// Approximate scores of whole blocks of quantised rows (`out.len()` a multiple of [`BLOCK_ROWS`]).
    fn int8_blocks / int8_blocks_avx2(blocks: &[i8], padded_dim: usize, query: &[f32], scales: &[f32], out: &mut [f32])
        => int8_blocks_impl::<true>(blocks, padded_dim, query, scales, out),
           int8_blocks_impl::<false>(blocks, padded_dim, query, scales, out)
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
    fn int8_blocks_compute_scaled_column_dots() {
        let dim = 5;
        let rows: Vec<Vec<i8>> = (0..BLOCK_ROWS)
            .map(|j| {
                (0..dim)
                    .map(|d| (j as i32 * 7 - d as i32 * 13) as i8)
                    .collect()
            })
            .collect();
        let mut block = vec![0i8; dim * BLOCK_ROWS];
        for (j, row) in rows.iter().enumerate() {
            for d in 0..dim {
                block[d * BLOCK_ROWS + j] = row[d];
            }
        }
        let query = [0.5f32, -1.0, 0.25, 2.0, 0.0];
        let scales: Vec<f32> = (0..BLOCK_ROWS).map(|j| 0.01 * (j + 1) as f32).collect();
        let mut out = vec![0.0f32; BLOCK_ROWS];
        int8_blocks(&block, dim, &query, &scales, &mut out);
        for j in 0..BLOCK_ROWS {
            let expect: f32 = rows[j]
                .iter()
                .zip(&query)
                .map(|(x, q)| *x as f32 * q)
                .sum::<f32>()
                * scales[j];
            assert!(
                (out[j] - expect).abs() < 1e-4,
                "row {j}: {} vs {expect}",
                out[j]
            );
        }
    }
}
