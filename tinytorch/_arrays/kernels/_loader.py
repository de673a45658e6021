"""Kernel sources, their template instances, and the lazy per-device CuPy compilation.

``KERNELS`` is the single list of what gets compiled: each ``kernels/*.cu`` file with the
``name_expressions`` (template instances) CuPy's ``RawModule`` instantiates. The CPU tests use the
same table to compile with nvcc/NVRTC and to build the g++ emulation.
"""
from __future__ import annotations

import re
import threading

import numpy as np

from ..._kernels_path import kernel_dir

# numpy dtype name -> the kernel's T
CUDA_TYPE = {"float32": "float", "float64": "double", "float16": "tt_half"}


def _inst(template: str, types: tuple[str, ...]) -> list[str]:
    return [f"{template}<{t}>" for t in types]


_FD = ("float", "double")
_FDH = ("float", "double", "tt_half")

KERNELS: dict[str, list[str]] = {
    "conv2d.cu": (_inst("conv2d_forward", _FD) + _inst("conv2d_grad_input", _FD)
                  + _inst("conv2d_grad_weight", _FD) + _inst("column_sum_reduce", _FD)),
    "linear_act.cu": _inst("linear_act_backward_partial", _FDH) + _inst("column_sum_reduce", _FDH),
    "softmax_xent.cu": _inst("softmax_cross_entropy_fwd_bwd", _FDH),
    "optimizer.cu": _inst("multi_tensor_sgd", _FD) + _inst("multi_tensor_adam", _FD),
}

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"[ \t]*$', re.MULTILINE)


def read_source(name: str, directory=None) -> str:
    """The source of ``kernels/<name>`` with local ``#include "x.cuh"`` inlined (each header once).

    Inlining makes the text CuPy hashes for its compile cache cover the headers too, and needs no
    include path at compile time.
    """
    directory = kernel_dir() if directory is None else directory
    seen: set[str] = set()

    def expand(fname: str) -> str:
        path = directory / fname
        if not path.is_file():
            raise FileNotFoundError(f"CUDA kernel source {fname!r} not found in {directory}")
        seen.add(fname)

        def repl(m: re.Match) -> str:
            inc = m.group(1)
            if inc in seen:
                return f"// (already included: {inc})"
            return f"// ---- begin {inc}\n{expand(inc)}\n// ---- end {inc}"

        return _INCLUDE.sub(repl, path.read_text())

    return expand(name)


class CupyRuntime:
    """Launches kernels with CuPy: compiles each source once per device, on first use."""

    def __init__(self, cp):
        self.xp = cp
        self._modules: dict[tuple[str, int], object] = {}
        self._lock = threading.Lock()

    def _module(self, source: str):
        dev = self.xp.cuda.Device().id
        key = (source, dev)
        mod = self._modules.get(key)
        if mod is None:
            with self._lock:
                mod = self._modules.get(key)
                if mod is None:
                    mod = self.xp.RawModule(code=read_source(source),
                                            name_expressions=KERNELS[source])
                    self._modules[key] = mod
        return mod

    def launch(self, source: str, name: str, grid, block, args) -> None:
        assert name in KERNELS[source], f"{name} is not instantiated in {source}"
        try:
            fn = self._module(source).get_function(name)
        except Exception as e:  # a compile error: say which kernel and why
            raise RuntimeError(f"tinytorch CUDA kernel {name} from {source} failed to compile: "
                               f"{type(e).__name__}: {e}") from e
        fn(tuple(grid), tuple(block), tuple(args))

    def address(self, arr) -> int:
        return int(arr.data.ptr)

    def asarray(self, host: np.ndarray):
        return self.xp.asarray(host)

    def device_of(self, arr):
        return self.xp.cuda.Device(arr.device.id)


_runtime: list = []


def cupy_runtime(cp) -> CupyRuntime:
    if not _runtime:
        _runtime.append(CupyRuntime(cp))
    return _runtime[0]
