// cuda_emu.h — just enough CUDA for g++ to compile and run tinytorch's kernels/*.cu on the CPU.
//
// Execution model: blocks run one after another; the threads of a block are fibers (ucontext) on
// one OS thread, scheduled round-robin by tt_emu::run_block. A fiber runs until it reaches a sync
// point — __syncthreads() or a warp shuffle — or exits:
// * __syncthreads() releases the block only when every thread that has not exited waits on it;
//   a barrier that some threads skip (they exited) or a deadlock is reported as an error.
// * __shfl_*_sync exchange values for real: the scheduler releases a warp when all lanes named in
//   the mask wait on the shuffle, computes every lane's result from the posted values, then resumes.
// __shared__ is static storage: one copy shared by the fibers of the running block. Between blocks
// it is not reset (like the GPU, whose shared memory starts undefined).
// A missing barrier therefore shows: fiber 0 runs ahead and reads shared memory before the other
// fibers have written it.
#ifndef TT_CUDA_EMU_H
#define TT_CUDA_EMU_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#include <ucontext.h>

#define TT_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static

using std::erf;
using std::exp;
using std::log;
using std::sqrt;
using std::tanh;
using ::erff;
using ::expf;
using ::logf;
using ::sqrtf;
using ::tanhf;

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
};

namespace tt_emu {

enum State { RUNNABLE, AT_BARRIER, AT_SHFL, DONE };
enum ShflKind { SHFL_DOWN, SHFL_XOR, SHFL_UP, SHFL_IDX };

struct Fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    State state = RUNNABLE;
    uint3 tid{0, 0, 0};
    int linear = 0;
    // posted shuffle
    uint64_t value = 0, result = 0;
    int kind = 0, arg = 0, width = 32;
    unsigned mask = 0;
};

struct Machine {
    std::vector<Fiber> fibers;
    ucontext_t scheduler;
    Fiber* current = nullptr;
    uint3 block_idx{0, 0, 0};
    dim3 block_dim{1, 1, 1}, grid_dim{1, 1, 1};
    const std::function<void()>* body = nullptr;
    std::string error;
    size_t stack_bytes = 64 * 1024;
};

inline Machine& machine() {
    static Machine m;
    return m;
}

inline void fiber_main() {
    Machine& m = machine();
    (*m.body)();
    m.current->state = DONE;  // returning resumes uc_link: the scheduler
}

inline void yield_to_scheduler() {
    Machine& m = machine();
    swapcontext(&m.current->ctx, &m.scheduler);
}

inline void syncthreads() {
    machine().current->state = AT_BARRIER;
    yield_to_scheduler();
}

template <typename T> inline T shuffle(unsigned mask, T v, int arg, int width, int kind) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    Fiber* f = machine().current;
    f->value = 0;
    std::memcpy(&f->value, &v, sizeof(T));
    f->kind = kind, f->arg = arg, f->width = width, f->mask = mask;
    f->state = AT_SHFL;
    yield_to_scheduler();
    T out;
    std::memcpy(&out, &machine().current->result, sizeof(T));
    return out;
}

// Lanes of warp w that exist and are named in mask.
inline std::vector<int> warp_lanes(const Machine& m, int w, unsigned mask) {
    std::vector<int> lanes;
    for (int l = 0; l < 32; ++l) {
        const int t = w * 32 + l;
        if (t < (int)m.fibers.size() && (mask >> l) & 1u) lanes.push_back(t);
    }
    return lanes;
}

// Release every warp whose named lanes all wait on a shuffle; false if none could be released.
inline bool release_shuffles(Machine& m) {
    bool released = false;
    const int n = (int)m.fibers.size();
    for (int w = 0; w * 32 < n; ++w) {
        int first = -1;
        for (int l = 0; l < 32 && w * 32 + l < n; ++l)
            if (m.fibers[w * 32 + l].state == AT_SHFL) { first = w * 32 + l; break; }
        if (first < 0) continue;
        const std::vector<int> lanes = warp_lanes(m, w, m.fibers[first].mask);
        bool ready = true;
        for (int t : lanes) {
            if (m.fibers[t].state == DONE) {
                m.error = "__shfl_sync: lane " + std::to_string(t % 32) + " of warp " + std::to_string(w) +
                          " named in the mask has exited";
                return false;
            }
            if (m.fibers[t].state != AT_SHFL) ready = false;
        }
        if (!ready) continue;
        for (int t : lanes) {
            Fiber& f = m.fibers[t];
            const int lane = t % 32, width = f.width, base = lane - lane % width;
            int src = lane;
            if (f.kind == SHFL_DOWN) src = (lane % width) + f.arg < width ? lane + f.arg : lane;
            else if (f.kind == SHFL_UP) src = (lane % width) - f.arg >= 0 ? lane - f.arg : lane;
            else if (f.kind == SHFL_XOR) src = ((lane ^ f.arg) - base) < width ? (lane ^ f.arg) : lane;
            else src = base + (f.arg % width);
            const int st = w * 32 + src;
            f.result = st < n ? m.fibers[st].value : f.value;
        }
        for (int t : lanes) m.fibers[t].state = RUNNABLE;
        released = true;
    }
    return released;
}

// Run one block to completion; false (and m.error) on a barrier error or a deadlock.
inline bool run_block(Machine& m) {
    const int n = (int)(m.block_dim.x * m.block_dim.y * m.block_dim.z);
    if ((int)m.fibers.size() != n) m.fibers.resize(n);
    for (int i = 0; i < n; ++i) {
        Fiber& f = m.fibers[i];
        f.stack.resize(m.stack_bytes);
        f.state = RUNNABLE;
        f.linear = i;
        f.tid = {(unsigned)(i % m.block_dim.x), (unsigned)((i / m.block_dim.x) % m.block_dim.y),
                 (unsigned)(i / (m.block_dim.x * m.block_dim.y))};
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = &m.scheduler;
        makecontext(&f.ctx, (void (*)())fiber_main, 0);
    }
    for (;;) {
        for (int i = 0; i < n; ++i) {
            if (m.fibers[i].state != RUNNABLE) continue;
            m.current = &m.fibers[i];
            swapcontext(&m.scheduler, &m.fibers[i].ctx);
        }
        if (release_shuffles(m)) continue;
        if (!m.error.empty()) return false;
        int done = 0, barrier = 0, shfl = 0;
        for (const Fiber& f : m.fibers) {
            done += f.state == DONE;
            barrier += f.state == AT_BARRIER;
            shfl += f.state == AT_SHFL;
        }
        if (done == n) return true;
        if (shfl == 0 && done == 0) {  // all at the barrier
            for (Fiber& f : m.fibers) f.state = RUNNABLE;
            continue;
        }
        char buf[256];
        if (shfl == 0)
            std::snprintf(buf, sizeof buf,
                          "__syncthreads: %d of %d threads of block (%u,%u,%u) wait at a barrier that %d exited "
                          "threads never reached",
                          barrier, n, m.block_idx.x, m.block_idx.y, m.block_idx.z, done);
        else
            std::snprintf(buf, sizeof buf,
                          "deadlock in block (%u,%u,%u): %d threads at __syncthreads, %d at a warp shuffle, "
                          "%d exited",
                          m.block_idx.x, m.block_idx.y, m.block_idx.z, barrier, shfl, done);
        m.error = buf;
        return false;
    }
}

// Run ``body`` (a kernel call) over the whole grid. Returns 0, or 1 with the message in error.
inline int launch(dim3 grid, dim3 block, const std::function<void()>& body) {
    Machine& m = machine();
    m.error.clear();
    const unsigned n = block.x * block.y * block.z;
    if (n == 0 || n > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
        m.error = "invalid launch configuration: grid (" + std::to_string(grid.x) + "," + std::to_string(grid.y) +
                  "," + std::to_string(grid.z) + ") block (" + std::to_string(block.x) + "," +
                  std::to_string(block.y) + "," + std::to_string(block.z) + ")";
        return 1;
    }
    m.block_dim = block, m.grid_dim = grid, m.body = &body;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                m.block_idx = {x, y, z};
                if (!run_block(m)) return 1;
            }
    return 0;
}

}  // namespace tt_emu

#define threadIdx (tt_emu::machine().current->tid)
#define blockIdx (tt_emu::machine().block_idx)
#define blockDim (tt_emu::machine().block_dim)
#define gridDim (tt_emu::machine().grid_dim)

inline void __syncthreads() { tt_emu::syncthreads(); }
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return tt_emu::shuffle(mask, v, (int)delta, width, tt_emu::SHFL_DOWN);
}
template <typename T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return tt_emu::shuffle(mask, v, (int)delta, width, tt_emu::SHFL_UP);
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    return tt_emu::shuffle(mask, v, lane_mask, width, tt_emu::SHFL_XOR);
}
template <typename T> inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
    return tt_emu::shuffle(mask, v, src_lane, width, tt_emu::SHFL_IDX);
}

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
inline double __longlong_as_double(long long i) {
    double d;
    std::memcpy(&d, &i, sizeof d);
    return d;
}
template <typename T> inline T __ldg(const T* p) { return *p; }

inline float tt_emu_half_to_float(unsigned short bits) {
    _Float16 h;
    std::memcpy(&h, &bits, sizeof h);
    return (float)h;
}
inline unsigned short tt_emu_float_to_half(float f) {
    _Float16 h = (_Float16)f;  // round to nearest even, as cvt.rn.f16.f32
    unsigned short bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}

#endif  // TT_CUDA_EMU_H
