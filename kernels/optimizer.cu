// optimizer.cu — fused multi-tensor optimizer steps: one launch updates every parameter of a group.
//
// Tensor table (built on the host by tinytorch._arrays.kernels.launchers.fused_optimizer_step):
//   ptrs   (n_tensors, 5) int64   device addresses: param, grad, buf1, buf2, buf3 (0 when unused)
//          SGD:  buf1 = momentum buffer.   Adam/AdamW: buf1 = exp_avg, buf2 = exp_avg_sq,
//          buf3 = max_exp_avg_sq (amsgrad).
//   sizes  (n_tensors,) int64     number of elements of each (contiguous) tensor
//   chunks (n_chunks, 2) int64    (tensor index, first element) of each chunk of `chunk` elements
//   coef   (n_tensors, 2) A       per-tensor scalars: Adam step_size = lr / (1 - beta1^step) and
//                                 sqrt(1 - beta2^step) (bias corrections, step counts may differ)
// Threads: block b owns chunk b; its threads stride over the chunk's elements, one element each per
// iteration, so every element is read and written exactly once per step.
// The update formulas and their operation order follow torch.optim.SGD / Adam / AdamW
// (single-tensor path): weight decay, maximize, nesterov, dampening, amsgrad, bias correction.
#include "tt_common.cuh"

template <typename T>
__global__ void multi_tensor_sgd(const long long* ptrs, const long long* sizes, const long long* chunks, int chunk,
                                 typename tt_acc<T>::type lr, typename tt_acc<T>::type weight_decay,
                                 typename tt_acc<T>::type momentum, typename tt_acc<T>::type one_minus_dampening,
                                 int nesterov, int maximize) {
    typedef typename tt_acc<T>::type A;
    const long long t = chunks[2 * blockIdx.x], start = chunks[2 * blockIdx.x + 1];
    const long long n = sizes[t];
    const long long end = start + chunk < n ? start + chunk : n;
    T* p = reinterpret_cast<T*>(ptrs[5 * t]);
    const T* gr = reinterpret_cast<const T*>(ptrs[5 * t + 1]);
    T* buf = reinterpret_cast<T*>(ptrs[5 * t + 2]);
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        const A pv = tt_to_acc(p[i]);
        A d = tt_to_acc(gr[i]);
        if (maximize) d = -d;
        if (weight_decay != A(0)) d = d + weight_decay * pv;
        if (buf) {
            const A b = tt_to_acc(buf[i]) * momentum + one_minus_dampening * d;
            buf[i] = tt_from_acc<T>(b);
            d = nesterov ? d + momentum * b : b;
        }
        p[i] = tt_from_acc<T>(pv - lr * d);
    }
}

template <typename T>
__global__ void multi_tensor_adam(const long long* ptrs, const long long* sizes, const long long* chunks, int chunk,
                                  const typename tt_acc<T>::type* coef, typename tt_acc<T>::type beta1,
                                  typename tt_acc<T>::type beta2, typename tt_acc<T>::type eps,
                                  typename tt_acc<T>::type weight_decay, typename tt_acc<T>::type decay_factor,
                                  int decoupled, int maximize) {
    typedef typename tt_acc<T>::type A;
    const long long t = chunks[2 * blockIdx.x], start = chunks[2 * blockIdx.x + 1];
    const long long n = sizes[t];
    const long long end = start + chunk < n ? start + chunk : n;
    T* p = reinterpret_cast<T*>(ptrs[5 * t]);
    const T* gr = reinterpret_cast<const T*>(ptrs[5 * t + 1]);
    T* m = reinterpret_cast<T*>(ptrs[5 * t + 2]);
    T* v = reinterpret_cast<T*>(ptrs[5 * t + 3]);
    T* vmax = reinterpret_cast<T*>(ptrs[5 * t + 4]);
    const A step_size = coef[2 * t], bc2_sqrt = coef[2 * t + 1];
    const A w1 = A(1) - beta1;
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        A pv = tt_to_acc(p[i]);
        A g = tt_to_acc(gr[i]);
        if (maximize) g = -g;
        if (weight_decay != A(0)) {
            if (decoupled) pv = pv * decay_factor;
            else g = g + weight_decay * pv;
        }
        // exp_avg.lerp_(g, 1 - beta1), with lerp's two forms as torch picks them
        const A mo = tt_to_acc(m[i]);
        const A mn = w1 < A(0.5) ? mo + w1 * (g - mo) : g - (g - mo) * (A(1) - w1);
        const A vn = tt_to_acc(v[i]) * beta2 + (A(1) - beta2) * (g * g);
        m[i] = tt_from_acc<T>(mn);
        v[i] = tt_from_acc<T>(vn);
        A vd = vn;
        if (vmax) {
            vd = tt_max(tt_to_acc(vmax[i]), vn);
            vmax[i] = tt_from_acc<T>(vd);
        }
        const A denom = tt_sqrt(vd) / bc2_sqrt + eps;
        p[i] = tt_from_acc<T>(pv - step_size * (mn / denom));
    }
}
