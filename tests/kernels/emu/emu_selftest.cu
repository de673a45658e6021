// emu_selftest.cu — tiny kernels that check the CPU emulation itself (tests/kernels/test_emulation.py):
// real lane exchange in warp shuffles, and a barrier that some threads skip being reported.
// They are compiled only into the emulation, never shipped.

// out[i] = value of lane (i + delta) for shfl_down, of lane (i ^ mask) for shfl_xor; one warp per 32 threads.
__global__ void emu_shuffle_probe(const int* in, int* out_down, int* out_xor, int delta, int lane_mask) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int v = in[i];
    out_down[i] = __shfl_down_sync(0xffffffffu, v, delta);
    out_xor[i] = __shfl_xor_sync(0xffffffffu, v, lane_mask);
}

// Threads with threadIdx.x >= n_early exit before the barrier: an error on a GPU (undefined
// behaviour), which the emulation must report rather than run through.
__global__ void emu_divergent_barrier(int* out, int n_early) {
    __shared__ int s[64];
    if ((int)threadIdx.x >= n_early) return;
    s[threadIdx.x] = (int)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = s[(threadIdx.x + 1) % n_early];
}

// Block reversal through shared memory: correct only if the barrier separates writes and reads.
__global__ void emu_reverse(const float* in, float* out) {
    __shared__ float s[256];
    const int t = threadIdx.x, n = blockDim.x;
    s[t] = in[blockIdx.x * n + t];
#ifndef TT_TEST_DROP_SYNC
    __syncthreads();
#endif
    out[blockIdx.x * n + t] = s[n - 1 - t];
}
