"""Every kernels/*.cu compiles for the GPUs we target (sm_80, sm_90), with every template instance.

Through NVRTC (CuPy's binding, as CuPy compiles at run time) when it is importable and finds
libnvrtc, else through nvcc; skipped with the reason when neither is there.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tinytorch._arrays.kernels import KERNELS, read_source

ARCHS = ["sm_80", "sm_90"]


def _nvrtc():
    try:
        from cupy.cuda import nvrtc  # noqa: PLC0415

        nvrtc.getVersion()  # loads libnvrtc: fails without the toolkit or the nvidia-cuda-nvrtc wheel
        return nvrtc
    except Exception:
        return None


def test_every_source_file_is_in_the_kernel_table():
    from tinytorch._kernels_path import kernel_dir  # noqa: PLC0415

    assert {p.name for p in kernel_dir().glob("*.cu")} == set(KERNELS)


def test_read_source_inlines_local_headers_once():
    src = read_source("conv2d.cu")
    assert '#include "tt_common.cuh"' not in src
    assert src.count("#define TT_COMMON_CUH") == 1
    assert "column_sum_reduce" in src


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("source", sorted(KERNELS))
def test_compiles_with_nvrtc(source, arch):
    nvrtc = _nvrtc()
    if nvrtc is None:
        pytest.skip("CuPy's NVRTC binding is not usable here (pip install cupy-cuda13x nvidia-cuda-nvrtc)")
    prog = nvrtc.createProgram(read_source(source), source, [], [])
    for name in KERNELS[source]:
        nvrtc.addNameExpression(prog, name)
    try:
        nvrtc.compileProgram(prog, [f"-arch={arch}", "--std=c++14"])
    except nvrtc.NVRTCError as e:
        pytest.fail(f"NVRTC failed on {source} for {arch}: {e}\n{nvrtc.getProgramLog(prog)}")
    for name in KERNELS[source]:
        assert nvrtc.getLoweredName(prog, name)


def test_compiles_with_nvcc(tmp_path, source="all"):
    """All sources for both architectures in one nvcc run (taking a kernel's address instantiates it)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not found")
    gencode = [a for arch in ARCHS for a in ("-gencode", f"arch=compute_{arch[3:]},code={arch}")]
    for src in sorted(KERNELS):
        unit = tmp_path / f"check_{src}"
        addresses = ",\n".join(f"    (const void*)&{n}" for n in KERNELS[src])
        unit.write_text(read_source(src) + f"\nconst void* tt_instances[] = {{\n{addresses}\n}};\n")
        res = subprocess.run([nvcc, "-std=c++14", "-c", "-x", "cu", str(unit), "-o", str(tmp_path / f"{src}.o"),
                              *gencode], capture_output=True, text=True)
        assert res.returncode == 0, f"nvcc failed on {src}:\n{res.stderr[-4000:]}"
