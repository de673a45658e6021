// softmax_xent.cu — fused softmax + cross-entropy, forward and backward in one pass.
//
// Computes, for logits X (N, C) row-major contiguous and integer targets t (N,) (int64):
//     loss[i]    = logsumexp(X[i, :]) - X[i, t[i]]             (0 where t[i] == ignore_index)
//     grad[i, j] = softmax(X[i, :])[j] - (j == t[i])            (a zero row where t[i] == ignore_index)
// i.e. the gradient of the per-sample loss; the caller applies the reduction and the upstream
// gradient. A target outside [0, C) that is not ignore_index gives loss NaN (the caller validates).
// Numerically stable: the row maximum is subtracted before exponentiation.
//
// Threads: one block per row (blockIdx.x = i); the block's threads stride over the C columns,
// with deterministic block reductions for the max and the sum of exponentials.
// Launched by tinytorch._arrays.kernels.launchers.softmax_cross_entropy.
#include "tt_common.cuh"

template <typename T>
__global__ void softmax_cross_entropy_fwd_bwd(const T* logits, const long long* target, T* loss, T* grad,
                                              int n_rows, int n_cls, long long ignore_index, int write_grad) {
    typedef typename tt_acc<T>::type A;
    __shared__ A scratch[TT_WARP_SIZE];
    const int i = blockIdx.x;
    if (i >= n_rows) return;  // uniform across the block: no barrier is skipped by part of it
    const T* row = logits + (long long)i * n_cls;
    const long long t = target[i];
    const bool ignored = (t == ignore_index);

    A m = tt_neg_inf<A>();
    for (int j = threadIdx.x; j < n_cls; j += blockDim.x) m = tt_max(m, tt_to_acc(row[j]));
    m = tt_block_max(m, scratch);

    A s = A(0);
    for (int j = threadIdx.x; j < n_cls; j += blockDim.x) s += tt_exp(tt_to_acc(row[j]) - m);
    s = tt_block_sum(s, scratch);
    const A lse = m + tt_log(s);

    if (threadIdx.x == 0) {
        A l;
        if (ignored) l = A(0);
        else if (t < 0 || t >= n_cls) l = A(0) / A(0);  // NaN flags an invalid target
        else l = lse - tt_to_acc(row[t]);
        loss[i] = tt_from_acc<T>(l);
    }
    if (write_grad) {
        T* grow = grad + (long long)i * n_cls;
        for (int j = threadIdx.x; j < n_cls; j += blockDim.x) {
            A g = ignored ? A(0) : tt_exp(tt_to_acc(row[j]) - lse) - (j == t ? A(1) : A(0));
            grow[j] = tt_from_acc<T>(g);
        }
    }
}
