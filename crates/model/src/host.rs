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
    // SAFETY: the assert above makes every pointer cover its matrix, all row-major (row stride =
    // column count, column stride 1); `read_dst` is false, so the product's old contents are never
    // read.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            k,
            product.as_mut_ptr(),
            1,
            cols as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            cols as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
