"""Random number generation: ``manual_seed``, ``Generator``, and the default generator.

NumPy's PCG64 backs CPU tensors. CUDA tensors draw from CuPy's generator, seeded from the
same ``manual_seed`` call; random CUDA tensors are generated on the device.
"""
from __future__ import annotations

import numpy as np

from . import _arrays
import json
from .tensor import Tensor


class Generator:
    """``tinytorch.Generator(device='cpu')`` with ``manual_seed``, ``seed``, ``initial_seed`` and RNG state."""

    def __init__(self, device="cpu"):
        self.device = _arrays.parse_device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._np = np.random.Generator(np.random.PCG64(self._seed))
        self._cupy = None

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed = seed % (2**64)
        self._seed = seed
        self._np = np.random.Generator(np.random.PCG64(seed))
        self._cupy = None
        self._cuda_seed = seed % (2**63)
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The CPU generator state as a uint8 tensor (like torch's ByteTensor state)."""

        st = json.dumps(self._np.bit_generator.state, default=int).encode()
        return Tensor._make(np.frombuffer(st, dtype=np.uint8).copy())

    def set_state(self, state):
        raw = bytes(_arrays.as_numpy(state._data).astype(np.uint8))
        self._np.bit_generator.state = json.loads(raw.decode())
        return self

    def numpy(self) -> np.random.Generator:
        return self._np

    def manual_seed_cuda(self, seed):
        """Reseed only the CUDA side (``tinytorch.cuda.manual_seed``): the CPU stream is untouched."""
        self._cuda_seed = int(seed) % (2**63)
        self._cupy = None

    def cupy(self, index=None):
        """CuPy's generator for GPU ``index`` (None: the current one), each seeded alike as in torch."""
        cp = _arrays.cupy_module()
        if index is None:
            index = int(cp.cuda.runtime.getDevice())
        if self._cupy is None:
            self._cupy = {}
        rs = self._cupy.get(index)
        if rs is None:
            with cp.cuda.Device(index):
                rs = cp.random.RandomState(getattr(self, "_cuda_seed", self._seed % (2**63)))
            if _arrays.cuda_device_count() > 1:  # draws must allocate on that GPU, whichever is current
                rs = _OnDevice(rs, cp.cuda.Device(index))
            self._cupy[index] = rs
        return rs

    def for_device(self, device):
        """The array-level generator for ``device``: NumPy's on the CPU, CuPy's on CUDA."""
        dev = _arrays.parse_device(device)
        return self._np if dev.type == "cpu" else self.cupy(dev.index)


class _OnDevice:
    """A CuPy RandomState whose draws run under its GPU's context (only used with several GPUs)."""

    def __init__(self, rs, dev):
        self._rs, self._dev = rs, dev

    def __getattr__(self, name):
        fn = getattr(self._rs, name)

        def call(*args, **kwargs):
            with self._dev:
                return fn(*args, **kwargs)
        return call


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (CPU and CUDA alike); returns it, like torch."""
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _gen(generator):
    return default_generator if generator is None else generator
