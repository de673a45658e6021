// linear_act.cu — backward epilogue of Linear -> activation: activation gradient and bias gradient in
// one pass over dY.
//
// For y = act(z), z = x @ W.T + b, with dY (M, N) and z (M, N) row-major contiguous:
//     dZ[i, j]  = act'(z[i, j]) * dY[i, j]     act: 0 identity, 1 ReLU (z > 0), 2 GELU (exact erf form),
//                                              3 GELU (tanh approximation)
//     db[j]     = sum_i dZ[i, j]               (optional)
// so the rest of the backward is two cuBLAS GEMMs (dX = dZ @ W, dW = dZ.T @ x) done with xp.matmul.
//
// Threads: grid (ceil(N / blockDim.x), n_parts); thread (x) of block (bx, by) owns column
// j = bx * blockDim.x + x for the rows of chunk by (rows_per_part rows), so loads and stores are
// coalesced along the row. Each chunk writes its column sums into partial[by, j]; the second pass
// column_sum_reduce (tt_common.cuh) adds the chunks in order: deterministic, no atomics.
// Launched by tinytorch._arrays.kernels.launchers.linear_act_backward.
#include "tt_common.cuh"

template <typename A> __device__ __forceinline__ A tt_act_grad(A z, int act) {
    if (act == 1) return z > A(0) ? A(1) : A(0);
    if (act == 2) {
        const A inv_sqrt2 = A(0.70710678118654752440), inv_sqrt_2pi = A(0.39894228040143267794);
        const A cdf = A(0.5) * (A(1) + tt_erf(z * inv_sqrt2));
        return cdf + z * inv_sqrt_2pi * tt_exp(A(-0.5) * z * z);
    }
    if (act == 3) {
        const A k = A(0.79788456080286535588), c = A(0.044715);  // sqrt(2 / pi)
        const A u = k * (z + c * z * z * z);
        const A th = tt_tanh(u);
        return A(0.5) * (A(1) + th) + A(0.5) * z * (A(1) - th * th) * k * (A(1) + A(3) * c * z * z);
    }
    return A(1);
}

template <typename T>
__global__ void linear_act_backward_partial(const T* grad_out, const T* act_input, T* grad_in,
                                            typename tt_acc<T>::type* partial, int n_rows, int n_cols,
                                            int act, int rows_per_part) {
    typedef typename tt_acc<T>::type A;
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n_cols) return;
    const int r0 = blockIdx.y * rows_per_part;
    const int r1 = tt_min(n_rows, r0 + rows_per_part);
    A col = A(0);
    for (int r = r0; r < r1; ++r) {
        const long long k = (long long)r * n_cols + j;
        const A g = tt_act_grad(tt_to_acc(act_input[k]), act) * tt_to_acc(grad_out[k]);
        grad_in[k] = tt_from_acc<T>(g);
        col += g;
    }
    if (partial) partial[(long long)blockIdx.y * n_cols + j] = col;
}
