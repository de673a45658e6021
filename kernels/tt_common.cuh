// tt_common.cuh — device helpers shared by every tinytorch kernel.
//
// Included by each kernels/*.cu. The Python loader (tinytorch/_arrays/kernels/_loader.py) inlines
// this file into the source before compiling, so CuPy's compile cache key covers it, and the
// CPU emulation (tests/kernels/emu/cuda_emu.h) compiles it with g++ unchanged.
//
// Nothing here may include a system header: NVRTC under CuPy has no host include path.
#ifndef TT_COMMON_CUH
#define TT_COMMON_CUH

#define TT_WARP_SIZE 32

// Half precision without cuda_fp16.h (not on NVRTC's search path under CuPy): 16-bit storage,
// all arithmetic in float. Only memory-bound kernels are instantiated for it.
struct tt_half {
    unsigned short bits;
};

__device__ __forceinline__ float tt_half_to_float(tt_half h) {
#ifdef TT_EMULATION
    return tt_emu_half_to_float(h.bits);
#else
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
    return f;
#endif
}

__device__ __forceinline__ tt_half tt_float_to_half(float f) {
    tt_half h;
#ifdef TT_EMULATION
    h.bits = tt_emu_float_to_half(f);
#else
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
#endif
    return h;
}

// Accumulator type: float for float and half, double for double.
template <typename T> struct tt_acc { typedef T type; };
template <> struct tt_acc<tt_half> { typedef float type; };

__device__ __forceinline__ float tt_to_acc(float x) { return x; }
__device__ __forceinline__ double tt_to_acc(double x) { return x; }
__device__ __forceinline__ float tt_to_acc(tt_half x) { return tt_half_to_float(x); }

template <typename T> __device__ __forceinline__ T tt_from_acc(typename tt_acc<T>::type x) { return x; }
template <> __device__ __forceinline__ tt_half tt_from_acc<tt_half>(float x) { return tt_float_to_half(x); }

// Precision-matched math (float overloads stay in float, double in double).
__device__ __forceinline__ float tt_exp(float x) { return expf(x); }
__device__ __forceinline__ double tt_exp(double x) { return exp(x); }
__device__ __forceinline__ float tt_log(float x) { return logf(x); }
__device__ __forceinline__ double tt_log(double x) { return log(x); }
__device__ __forceinline__ float tt_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double tt_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float tt_erf(float x) { return erff(x); }
__device__ __forceinline__ double tt_erf(double x) { return erf(x); }
__device__ __forceinline__ float tt_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double tt_tanh(double x) { return tanh(x); }
template <typename A> __device__ __forceinline__ A tt_max(A a, A b) { return a > b ? a : b; }
template <typename A> __device__ __forceinline__ A tt_min(A a, A b) { return a < b ? a : b; }
template <typename A> __device__ __forceinline__ A tt_neg_inf();
template <> __device__ __forceinline__ float tt_neg_inf<float>() { return -__int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double tt_neg_inf<double>() { return -__longlong_as_double(0x7ff0000000000000LL); }

// Butterfly all-reduce within a warp: every lane ends with the result, summed in a fixed order
// (deterministic).
template <typename A> __device__ __forceinline__ A tt_warp_sum(A v) {
    for (int offset = TT_WARP_SIZE / 2; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

template <typename A> __device__ __forceinline__ A tt_warp_max(A v) {
    for (int offset = TT_WARP_SIZE / 2; offset > 0; offset >>= 1)
        v = tt_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Block-wide reductions over a 1-D block whose size is a multiple of 32 (<= 1024). Every thread
// of the block must call them (they contain barriers); every thread gets the result.
// ``scratch`` is a __shared__ array of at least 32 elements.
template <typename A> __device__ A tt_block_sum(A v, A* scratch) {
    const int lane = threadIdx.x % TT_WARP_SIZE, warp = threadIdx.x / TT_WARP_SIZE;
    const int n_warps = blockDim.x / TT_WARP_SIZE;
    v = tt_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    A t = lane < n_warps ? scratch[lane] : A(0);
    t = tt_warp_sum(t);
    __syncthreads();  // everyone has read scratch before it is reused by the next reduction
    return t;
}

template <typename A> __device__ A tt_block_max(A v, A* scratch) {
    const int lane = threadIdx.x % TT_WARP_SIZE, warp = threadIdx.x / TT_WARP_SIZE;
    const int n_warps = blockDim.x / TT_WARP_SIZE;
    v = tt_warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    A t = lane < n_warps ? scratch[lane] : tt_neg_inf<A>();
    t = tt_warp_max(t);
    __syncthreads();
    return t;
}

// Second, deterministic pass of a split reduction: out[j] = sum over p of partial[p, j], added in
// order p = 0, 1, ... . partial is (n_parts, n_cols) in the accumulator type; one thread per column.
// Launched by tinytorch/_arrays/kernels/launchers.py for the conv2d weight/bias gradients and the
// linear bias gradient.
template <typename T>
__global__ void column_sum_reduce(const typename tt_acc<T>::type* partial, T* out, int n_parts, int n_cols) {
    typedef typename tt_acc<T>::type A;
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n_cols) return;
    A s = A(0);
    for (int p = 0; p < n_parts; ++p) s += partial[(long long)p * n_cols + j];
    out[j] = tt_from_acc<T>(s);
}

#endif  // TT_COMMON_CUH
