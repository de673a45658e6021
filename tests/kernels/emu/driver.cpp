// driver.cpp — the host side of the CPU emulation: every kernel instance of KERNELS behind one
// extern "C" entry point, loaded from Python with ctypes (tests/kernels/emu/runtime.py).
//
// tt_emu_launch(name, grid, block, params) mirrors cuLaunchKernel: params[i] points to the value of
// the kernel's i-th argument (a device pointer is the host address of a NumPy buffer here).
// tt_emu_signature(name) describes the parameter types ("*f" float*, "i" int, "q" long long,
// "d" double, ...) so the Python side can check the exact scalar types the launchers pass.
// Built by build.py with:  g++ -O1 -std=c++17 -I kernels -include cuda_emu.h driver.cpp
// plus -include of the generated instances file (one TT_KERNEL(...) line per KERNELS entry).
#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include "cuda_emu.h"

#include "conv2d.cu"
#include "linear_act.cu"
#include "optimizer.cu"
#include "softmax_xent.cu"
#include "emu_selftest.cu"

namespace {

template <typename T> struct type_code;
template <> struct type_code<float> { static std::string get() { return "f"; } };
template <> struct type_code<double> { static std::string get() { return "d"; } };
template <> struct type_code<int> { static std::string get() { return "i"; } };
template <> struct type_code<long long> { static std::string get() { return "q"; } };
template <> struct type_code<tt_half> { static std::string get() { return "e"; } };
template <typename T> struct type_code<T*> {
    static std::string get() { return "*" + type_code<typename std::remove_const<T>::type>::get(); }
};
template <typename T> struct type_code<const T> { static std::string get() { return type_code<T>::get(); } };

struct Entry {
    std::function<void(void**)> call;
    std::string signature;
};

template <typename... A, size_t... I>
void call_with(void (*kernel)(A...), void** params, std::index_sequence<I...>) {
    kernel(*static_cast<typename std::remove_reference<A>::type*>(params[I])...);
}

template <typename... A> Entry make_entry(void (*kernel)(A...)) {
    Entry e;
    e.call = [kernel](void** params) { call_with(kernel, params, std::index_sequence_for<A...>{}); };
    std::string sig;
    for (const std::string& c : {type_code<A>::get()...}) sig += (sig.empty() ? "" : " ") + c;
    e.signature = sig;
    return e;
}

std::map<std::string, Entry>& registry() {
    static std::map<std::string, Entry> r;
    if (r.empty()) {
#define TT_KERNEL(...) r.emplace(#__VA_ARGS__, make_entry(&__VA_ARGS__));
#include TT_INSTANCES
#undef TT_KERNEL
    }
    return r;
}

}  // namespace

extern "C" {

const char* tt_emu_signature(const char* name) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second.signature.c_str();
}

int tt_emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  void** params) {
    auto it = registry().find(name);
    if (it == registry().end()) {
        tt_emu::machine().error = std::string("no kernel instance named ") + name;
        return 1;
    }
    const auto& call = it->second.call;
    return tt_emu::launch(dim3{gx, gy, gz}, dim3{bx, by, bz}, [&call, params] { call(params); });
}

const char* tt_emu_error() { return tt_emu::machine().error.c_str(); }
}
