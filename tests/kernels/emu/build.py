"""Build the CPU emulation library (g++) and wrap it as a kernel runtime for the launchers.

``build(defines)`` compiles tests/kernels/emu/driver.cpp with every ``kernels/*.cu`` into a shared
library cached under the temp dir by a hash of the sources and flags; ``EmuRuntime`` loads it with
ctypes and offers the runtime interface of ``tinytorch._arrays.kernels.launchers`` (``xp`` is NumPy,
a device pointer is a NumPy buffer's address), checking every argument against the kernel's
parameter types the way the GPU would silently not.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from tinytorch._kernels_path import kernel_dir
from tinytorch._arrays.kernels import KERNELS

EMU_DIR = pathlib.Path(__file__).resolve().parent
SELFTEST_KERNELS = ["emu_shuffle_probe", "emu_divergent_barrier", "emu_reverse"]


def gxx() -> str | None:
    return shutil.which(os.environ.get("CXX", "g++"))


def instance_names() -> list[str]:
    names = []
    for source_names in KERNELS.values():
        names += [n for n in source_names if n not in names]
    return names + SELFTEST_KERNELS


def build(defines: tuple[str, ...] = ()) -> pathlib.Path:
    """Path of the emulation library built with ``-D`` defines (compiled once per source hash)."""
    compiler = gxx()
    if compiler is None:
        raise FileNotFoundError("g++ not found")
    kdir = kernel_dir()
    instances = "".join(f"TT_KERNEL({n})\n" for n in instance_names())
    h = hashlib.sha256()
    for p in sorted(kdir.glob("*.cu*")) + sorted(EMU_DIR.glob("*.[ch]*")):
        h.update(p.name.encode() + p.read_bytes())
    h.update(instances.encode() + repr(defines).encode())
    out_dir = pathlib.Path(tempfile.gettempdir()) / f"tinytorch_emu_{os.getuid()}" / h.hexdigest()[:16]
    lib = out_dir / "libttemu.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    inc = out_dir / "instances.inc"
    inc.write_text(instances)
    tmp = out_dir / f"libttemu.{os.getpid()}.so"
    cmd = [compiler, "-O1", "-std=c++17", "-shared", "-fPIC", "-w", f"-I{kdir}", f"-I{EMU_DIR}",
           f'-DTT_INSTANCES="{inc}"', *[f"-D{d}" for d in defines], str(EMU_DIR / "driver.cpp"), "-o", str(tmp)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"emulation build failed: {' '.join(cmd)}\n{res.stderr[-6000:]}")
    os.replace(tmp, lib)  # atomic: a concurrent build never sees a half-written library
    return lib


_DTYPE_CODE = {"float32": "f", "float64": "d", "float16": "e", "int32": "i", "int64": "q"}
_SCALAR_CTYPE = {"i": (np.int32, ctypes.c_int32), "q": (np.int64, ctypes.c_int64),
                 "f": (np.float32, ctypes.c_float), "d": (np.float64, ctypes.c_double)}


class EmuError(RuntimeError):
    """A launch the emulation refused: bad arguments, a barrier error or a deadlock."""


class EmuRuntime:
    """The launchers' runtime interface over the emulation library."""

    xp = np

    def __init__(self, lib_path: pathlib.Path):
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.tt_emu_signature.restype = ctypes.c_char_p
        self.lib.tt_emu_signature.argtypes = [ctypes.c_char_p]
        self.lib.tt_emu_error.restype = ctypes.c_char_p
        self.lib.tt_emu_launch.restype = ctypes.c_int
        self.lib.tt_emu_launch.argtypes = [ctypes.c_char_p] + [ctypes.c_uint] * 6 + [ctypes.POINTER(ctypes.c_void_p)]
        self.launches: list[tuple[str, tuple, tuple]] = []

    def signature(self, name: str) -> list[str]:
        sig = self.lib.tt_emu_signature(name.encode())
        if sig is None:
            raise EmuError(f"no kernel instance {name!r} in the emulation library")
        return sig.decode().split()

    def launch(self, source: str, name: str, grid, block, args) -> None:
        if name not in KERNELS.get(source, ()) and name not in SELFTEST_KERNELS:
            raise EmuError(f"{name} is not instantiated in {source}")
        sig = self.signature(name)
        if len(sig) != len(args):
            raise EmuError(f"{name}: expects {len(sig)} arguments, got {len(args)}")
        keep, params = [], (ctypes.c_void_p * len(args))()
        for i, (code, a) in enumerate(zip(sig, args)):
            if code.startswith("*"):
                if isinstance(a, np.ndarray):
                    if _DTYPE_CODE.get(a.dtype.name) != code[1:]:
                        raise EmuError(f"{name}: argument {i} is {code} but got an array of {a.dtype.name}")
                    if not a.flags.c_contiguous:
                        raise EmuError(f"{name}: argument {i} is not contiguous")
                    v = ctypes.c_void_p(a.ctypes.data)
                elif isinstance(a, np.uint64) and a == 0:
                    v = ctypes.c_void_p(0)
                else:
                    raise EmuError(f"{name}: argument {i} is a pointer ({code}) but got {type(a).__name__}")
            else:
                want_np, want_c = _SCALAR_CTYPE[code]
                if type(a) is not want_np:
                    raise EmuError(f"{name}: argument {i} must be {want_np.__name__}, got {type(a).__name__} {a!r}")
                v = want_c(a)
            keep.append(v)
            params[i] = ctypes.cast(ctypes.pointer(v), ctypes.c_void_p)
        grid, block = tuple(grid) + (1,) * (3 - len(grid)), tuple(block) + (1,) * (3 - len(block))
        self.launches.append((name, grid, block))
        if self.lib.tt_emu_launch(name.encode(), *grid, *block, params) != 0:
            raise EmuError(f"{name}: {self.lib.tt_emu_error().decode()}")

    def address(self, arr) -> int:
        return int(arr.ctypes.data)

    def asarray(self, host):
        return np.ascontiguousarray(host)
