// conv2d.cu — 2-D convolution (cross-correlation, as torch) by implicit GEMM: no im2col buffer.
//
// Layouts, all row-major contiguous:  X (N, C, H, W)   W (K, C/G, R, S)   b (K,)   Y (N, K, OH, OW),
// G groups, stride (sh, sw), padding (ph, pw), dilation (dh, dw); OH = (H + 2ph - dh(R-1) - 1)/sh + 1.
// Per group g the convolution is the GEMM  Y_g[k, p] = sum_q W_g[k, q] * Xcol_g[q, p]  with
// k < K/G, p = (n, oh, ow) < N*OH*OW, q = (c, r, s) < (C/G)*R*S, and
// Xcol_g[q, p] = X[n, g*C/G + c, oh*sh - ph + r*dh, ow*sw - pw + s*dw] (0 outside the image):
// the Xcol entries are gathered straight from X when a tile is loaded, never materialised.
//
// Kernels (launched by tinytorch._arrays.kernels.launchers.conv2d_forward / conv2d_backward):
// * conv2d_forward<T>: grid (ceil(P/32), ceil(K/G/32), G), block (16, 16). A block computes a 32x32
//   tile of Y_g (32 output channels x 32 output pixels); thread (tx, ty) owns the 2x2 outputs
//   k = k0 + ty + 16a, p = p0 + tx + 16b. The reduction over q runs in steps of 16 through
//   shared-memory tiles of W_g and Xcol_g.
// * conv2d_grad_input<T>: one thread per element of dX (N, C, H, W), grid-stride. Each thread gathers
//   dX[n, c, ih, iw] = sum over k in c's group, r, s with (ih + ph - r*dh) divisible by sh (likewise
//   w) of dY[n, k, oh, ow] * W[k, c mod C/G, r, s]: no scatter, no atomics.
// * conv2d_grad_weight<T>: dW_g = dY_g @ Xcol_g^T, a GEMM with a tiny output and a reduction over
//   all P = N*OH*OW pixels. The reduction is split into n_parts chunks of chunk pixels:
//   grid (ceil(Q/32), ceil(K/G/32), G * n_parts), block (16, 16); block z = part * G + g computes the
//   32x32 tile of dW_g over its chunk and writes it to partial_w[part, :]; blocks with
//   blockIdx.x == 0 also sum dY over their chunk for the bias (partial_b[part, :]). The second pass
//   column_sum_reduce adds the parts in order: bit-reproducible, no float atomics.
// relu_out (optional, may be null, shaped like dY): the output of a ReLU that followed the conv;
// dY is masked by relu_out > 0 as it is loaded (fused activation-gradient prologue).
#include "tt_common.cuh"

#define TT_CONV_TILE 32
#define TT_CONV_STEP 16

struct tt_conv_shape {
    int N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, G;
};

// Xcol_g[q, p], or 0 outside the (padded) image or past the ends.
template <typename T>
__device__ __forceinline__ typename tt_acc<T>::type tt_conv_gather(const T* x, const tt_conv_shape& s, int g,
                                                                   int q, long long p, int Q, long long P) {
    typedef typename tt_acc<T>::type A;
    if (q >= Q || p >= P) return A(0);
    const int Cg = s.C / s.G;
    const int ow = (int)(p % s.OW);
    const long long t = p / s.OW;
    const int oh = (int)(t % s.OH);
    const int n = (int)(t / s.OH);
    const int sx = q % s.S, r = (q / s.S) % s.R, c = q / (s.S * s.R);
    const int ih = oh * s.sh - s.ph + r * s.dh, iw = ow * s.sw - s.pw + sx * s.dw;
    if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) return A(0);
    return tt_to_acc(x[(((long long)n * s.C + g * Cg + c) * s.H + ih) * s.W + iw]);
}

// dY[n, k, oh, ow] for pixel p of group g's channel k (masked by the ReLU output when given).
template <typename T>
__device__ __forceinline__ typename tt_acc<T>::type tt_conv_dy(const T* dy, const T* relu_out, const tt_conv_shape& s,
                                                               int g, int k, long long p, int Kg, long long P) {
    typedef typename tt_acc<T>::type A;
    if (k >= Kg || p >= P) return A(0);
    const long long pix = (long long)s.OH * s.OW;
    const long long n = p / pix, hw = p % pix;
    const long long idx = (n * s.K + (long long)g * Kg + k) * pix + hw;
    if (relu_out && !(tt_to_acc(relu_out[idx]) > A(0))) return A(0);
    return tt_to_acc(dy[idx]);
}

template <typename T>
__global__ void conv2d_forward(const T* x, const T* w, const T* bias, T* y, int N, int C, int H, int W, int K,
                               int R, int S, int OH, int OW, int sh, int sw, int ph, int pw, int dh, int dw,
                               int G) {
    typedef typename tt_acc<T>::type A;
    const tt_conv_shape s = {N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, G};
    __shared__ A w_tile[TT_CONV_STEP][TT_CONV_TILE + 1];
    __shared__ A x_tile[TT_CONV_STEP][TT_CONV_TILE + 1];
    const int Kg = K / G, Q = (C / G) * R * S, g = blockIdx.z;
    const long long P = (long long)N * OH * OW;
    const int k0 = blockIdx.y * TT_CONV_TILE;
    const long long p0 = (long long)blockIdx.x * TT_CONV_TILE;
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    A acc[2][2] = {{A(0), A(0)}, {A(0), A(0)}};
    for (int q0 = 0; q0 < Q; q0 += TT_CONV_STEP) {
        for (int e = tid; e < TT_CONV_STEP * TT_CONV_TILE; e += 256) {
            const int qq = e / TT_CONV_TILE, jj = e % TT_CONV_TILE;
            const int k = k0 + jj, q = q0 + qq;
            w_tile[qq][jj] = (k < Kg && q < Q) ? tt_to_acc(w[((long long)g * Kg + k) * Q + q]) : A(0);
            x_tile[qq][jj] = tt_conv_gather(x, s, g, q, p0 + jj, Q, P);
        }
#ifndef TT_TEST_DROP_SYNC  // the CPU emulation's faithfulness test removes this barrier and must notice
        __syncthreads();
#endif
        for (int qq = 0; qq < TT_CONV_STEP; ++qq)
            for (int a = 0; a < 2; ++a)
                for (int b = 0; b < 2; ++b) acc[a][b] += w_tile[qq][ty + 16 * a] * x_tile[qq][tx + 16 * b];
        __syncthreads();  // the tiles are overwritten by the next step
    }
    const long long pix = (long long)OH * OW;
    for (int a = 0; a < 2; ++a) {
        const int k = k0 + ty + 16 * a;
        if (k >= Kg) continue;
        const int kk = g * Kg + k;
        const A bk = bias ? tt_to_acc(bias[kk]) : A(0);
        for (int b = 0; b < 2; ++b) {
            const long long p = p0 + tx + 16 * b;
            if (p >= P) continue;
            const long long n = p / pix, hw = p % pix;
            y[(n * K + kk) * pix + hw] = tt_from_acc<T>(acc[a][b] + bk);
        }
    }
}

template <typename T>
__global__ void conv2d_grad_input(const T* dy, const T* w, const T* relu_out, T* dx, int N, int C, int H, int W,
                                  int K, int R, int S, int OH, int OW, int sh, int sw, int ph, int pw, int dh,
                                  int dw, int G) {
    typedef typename tt_acc<T>::type A;
    const int Cg = C / G, Kg = K / G;
    const long long total = (long long)N * C * H * W;
    const long long pix = (long long)OH * OW;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        const int iw = (int)(e % W);
        const int ih = (int)((e / W) % H);
        const int c = (int)((e / ((long long)W * H)) % C);
        const long long n = e / ((long long)W * H * C);
        const int g = c / Cg, cl = c % Cg;
        A sum = A(0);
        for (int r = 0; r < R; ++r) {
            const int th = ih + ph - r * dh;
            if (th < 0 || th % sh != 0) continue;
            const int oh = th / sh;
            if (oh >= OH) continue;
            for (int sx = 0; sx < S; ++sx) {
                const int tw = iw + pw - sx * dw;
                if (tw < 0 || tw % sw != 0) continue;
                const int ow = tw / sw;
                if (ow >= OW) continue;
                for (int k = 0; k < Kg; ++k) {
                    const int kk = g * Kg + k;
                    const long long yi = (n * K + kk) * pix + (long long)oh * OW + ow;
                    if (relu_out && !(tt_to_acc(relu_out[yi]) > A(0))) continue;
                    sum += tt_to_acc(dy[yi]) * tt_to_acc(w[(((long long)kk * Cg + cl) * R + r) * S + sx]);
                }
            }
        }
        dx[e] = tt_from_acc<T>(sum);
    }
}

template <typename T>
__global__ void conv2d_grad_weight(const T* x, const T* dy, const T* relu_out, typename tt_acc<T>::type* partial_w,
                                   typename tt_acc<T>::type* partial_b, int N, int C, int H, int W, int K, int R,
                                   int S, int OH, int OW, int sh, int sw, int ph, int pw, int dh, int dw, int G,
                                   int chunk) {
    typedef typename tt_acc<T>::type A;
    const tt_conv_shape s = {N, C, H, W, K, R, S, OH, OW, sh, sw, ph, pw, dh, dw, G};
    __shared__ A dy_tile[TT_CONV_STEP][TT_CONV_TILE + 1];
    __shared__ A x_tile[TT_CONV_STEP][TT_CONV_TILE + 1];
    const int Kg = K / G, Q = (C / G) * R * S;
    const int g = blockIdx.z % G, part = blockIdx.z / G;
    const long long P = (long long)N * OH * OW;
    const long long pbeg = (long long)part * chunk;
    const long long pend = pbeg + chunk < P ? pbeg + chunk : P;
    const int k0 = blockIdx.y * TT_CONV_TILE, q0 = blockIdx.x * TT_CONV_TILE;
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    const bool do_bias = partial_b && blockIdx.x == 0;
    A acc[2][2] = {{A(0), A(0)}, {A(0), A(0)}};
    A bacc = A(0);  // bias partial of channel k0 + tid (threads tid < 32)
    for (long long pp0 = pbeg; pp0 < pend; pp0 += TT_CONV_STEP) {
        for (int e = tid; e < TT_CONV_STEP * TT_CONV_TILE; e += 256) {
            // the pixel index varies fastest across threads: coalesced loads along OW
            const int ii = e % TT_CONV_STEP, jj = e / TT_CONV_STEP;
            const long long p = pp0 + ii;
            const long long pl = p < pend ? p : P;  // pixels past this chunk read as 0
            dy_tile[ii][jj] = tt_conv_dy(dy, relu_out, s, g, k0 + jj, pl, Kg, P);
            x_tile[ii][jj] = tt_conv_gather(x, s, g, q0 + jj, pl, Q, P);
        }
        __syncthreads();
        for (int ii = 0; ii < TT_CONV_STEP; ++ii)
            for (int a = 0; a < 2; ++a)
                for (int b = 0; b < 2; ++b) acc[a][b] += dy_tile[ii][ty + 16 * a] * x_tile[ii][tx + 16 * b];
        if (do_bias && tid < TT_CONV_TILE)
            for (int ii = 0; ii < TT_CONV_STEP; ++ii) bacc += dy_tile[ii][tid];
        __syncthreads();
    }
    if (partial_w) {
        const long long base = (long long)part * K * Q;
        for (int a = 0; a < 2; ++a) {
            const int k = k0 + ty + 16 * a;
            if (k >= Kg) continue;
            for (int b = 0; b < 2; ++b) {
                const int q = q0 + tx + 16 * b;
                if (q < Q) partial_w[base + ((long long)g * Kg + k) * Q + q] = acc[a][b];
            }
        }
    }
    if (do_bias && tid < TT_CONV_TILE && k0 + tid < Kg)
        partial_b[(long long)part * K + g * Kg + k0 + tid] = bacc;
}
