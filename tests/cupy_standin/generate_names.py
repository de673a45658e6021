"""Write ``cupy_names.json``: the names a real CuPy exports, which the stand-in restricts itself to.

Run with a Python that has CuPy installed (``import cupy`` needs no GPU)::

    python3 -m venv /tmp/cupyvenv && /tmp/cupyvenv/bin/pip install cupy-cuda13x
    /tmp/cupyvenv/bin/python tests/cupy_standin/generate_names.py

and commit the regenerated ``cupy_names.json``.
"""
from __future__ import annotations

import json
import pathlib


def _public(obj) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def collect() -> dict:
    import cupy
    import cupyx
    import cupyx.scipy.special

    ufuncs = sorted(n for n in dir(cupy) if isinstance(getattr(cupy, n, None), cupy.ufunc))
    return {
        "cupy_version": cupy.__version__,
        "cupy": _public(cupy),
        "ufuncs": ufuncs,
        "ufunc_methods": _public(cupy.add),
        # ufuncs whose .at CuPy implements (a scatter kernel); the others raise NotImplementedError
        "ufunc_at": sorted(n for n in ufuncs if getattr(getattr(cupy, n), "_scatter_op", None)),
        # dunders too: which Python protocols a device array supports (no __index__, for instance)
        "ndarray": sorted(n for n in dir(cupy.ndarray) if not n.startswith("_") or n.startswith("__")),
        "linalg": _public(cupy.linalg),
        "fft": _public(cupy.fft),
        "random": _public(cupy.random),
        "random_RandomState": _public(cupy.random.RandomState),
        "random_Generator": _public(cupy.random.Generator),
        "lib_stride_tricks": _public(cupy.lib.stride_tricks),
        "cuda": _public(cupy.cuda),
        "cuda_runtime": _public(cupy.cuda.runtime),
        "cuda_Device": _public(cupy.cuda.Device),
        "cupyx": _public(cupyx),
        "cupyx_scipy_special": _public(cupyx.scipy.special),
    }


def main() -> None:
    out = pathlib.Path(__file__).with_name("cupy_names.json")
    out.write_text(json.dumps(collect(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
