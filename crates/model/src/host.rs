//! What the fused CPU paths (`conv_cpu`, `musicnn_cpu`) share: tensors copied to the host and one
//! single-threaded row-major matrix product.

use burn::tensor::Tensor;

use crate::ModelError;

/// A tile's im2col (`columns`) and matrix product, reused by one worker thread.
#[derive(Default)]
pub(crate) struct Scratch {
    pub columns: Vec<f32>,
    pub product: Vec<f32>,
}

/// A float tensor's values on the host.
pub(crate) fn host_values<const D: usize>(tensor: &Tensor<D>) -> Result<Vec<f32>, ModelError> {
    tensor
        .to_data()
        .try_into_vec::<f32>()
        .map_err(|err| ModelError::Input {
            shape: [0; 4],
            reason: format!("not a float32 tensor: {err:?}"),
        })
}

/// A matrix in a slice: `rows x cols`, element `(i, j)` at `i * row_stride + j * col_stride`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided {
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl Strided {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// One past the furthest element, or 0 for an empty matrix.
    fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }
}

/// `product = a x b` for row-major `a` (`rows x k`) and `b` (`k x cols`) with the `gemm` crate
/// (the GEMM Burn's CPU backend uses), on this thread: callers parallelise over tiles.
pub(crate) fn matmul_into(product: &mut [f32], a: &[f32], b: &[f32], rows: usize, k: usize) {
    let cols = product.len() / rows.max(1);
    assert!(
        a.len() == rows * k && b.len() == k * cols && product.len() == rows * cols,
        "matmul_into: {rows}x{k} by {}x{cols} into {} values",
        b.len() / k.max(1),
        product.len()
    );
    matmul_strided(
        (product, Strided::row_major(rows, cols)),
        (a, Strided::row_major(rows, k)),
        (b, Strided::row_major(k, cols)),
    );
}

/// `product = a x b` for matrices laid out in any strides (the shapes must agree), on this
/// thread. The product's old contents are never read.
pub(crate) fn matmul_strided(
    (product, p): (&mut [f32], Strided),
    (a, sa): (&[f32], Strided),
    (b, sb): (&[f32], Strided),
) {
    assert!(
        sa.rows == p.rows && sb.cols == p.cols && sa.cols == sb.rows,
        "matmul_strided: {}x{} by {}x{} into {}x{}",
        sa.rows,
        sa.cols,
        sb.rows,
        sb.cols,
        p.rows,
        p.cols
    );
    assert!(
        p.span() <= product.len() && sa.span() <= a.len() && sb.span() <= b.len(),
        "matmul_strided: a matrix reaches past its slice"
    );
    if p.rows == 0 || p.cols == 0 {
        return;
    }
    // SAFETY: the asserts above make every matrix, in its strides, lie inside its slice, and the
    // shapes agree; `read_dst` is false, so the product's old contents are never read.
    unsafe {
        gemm::gemm(
            p.rows,
            p.cols,
            sa.cols,
            product.as_mut_ptr(),
            p.col_stride as isize,
            p.row_stride as isize,
            false,
            a.as_ptr(),
            sa.col_stride as isize,
            sa.row_stride as isize,
            b.as_ptr(),
            sb.col_stride as isize,
            sb.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
