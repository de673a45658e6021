"""The ``cuda12``/``cuda13`` extras install what CuPy needs to run, not just the CuPy wheel.

CI has no GPU, so this reads pyproject.toml and resolves each extra's requirements by hand: CuPy's own
``ctk`` extra (CuPy >= 14.0) pulls ``cuda-toolkit[cublas,cudart,cufft,curand,cusolver,cusparse,nvrtc]``
(recorded below from the CuPy 14.0.0 and 14.2.0 wheel metadata on PyPI); explicit ``nvidia-*`` wheels
count too. Where a CuPy wheel is installed, its real metadata is checked against the recording.
"""
from __future__ import annotations

import importlib.metadata
import pathlib
import re
import tomllib

import pytest

packaging_requirements = pytest.importorskip("packaging.requirements")
Requirement = packaging_requirements.Requirement

ROOT = pathlib.Path(__file__).resolve().parents[1]

# What tinytorch's CuPy path loads: NVRTC (every elementwise op and the fused kernels), the runtime,
# cuBLAS (matmul), cuRAND (randn/dropout), cuSOLVER (linalg) and cuSPARSE (which cuSOLVER loads).
# cuFFT is not needed: tinytorch has no fft ops.
NEEDED = {"nvrtc", "cudart", "cublas", "curand", "cusolver", "cusparse"}

# CuPy's "ctk" extra, as its wheel metadata states it (cupy-cuda12x/13x 14.0.0 .. 14.2.0).
CTK_FIRST_VERSION = "14.0.0"
CTK_COMPONENTS = {"cublas", "cudart", "cufft", "curand", "cusolver", "cusparse", "nvrtc"}
# nvidia-* wheel names -> library (CUDA 12 wheels end in -cu12; CUDA 13 wheels have no suffix)
NVIDIA_WHEEL = {"cuda-nvrtc": "nvrtc", "cuda-runtime": "cudart", "cublas": "cublas", "curand": "curand",
                "cusolver": "cusolver", "cusparse": "cusparse", "cufft": "cufft"}


def _extras(text: str | None = None) -> dict[str, list[Requirement]]:
    data = tomllib.loads(text if text is not None else (ROOT / "pyproject.toml").read_text())
    return {k: [Requirement(r) for r in v] for k, v in data["project"]["optional-dependencies"].items()}


def resolved_libraries(reqs: list[Requirement], cuda_major: int) -> set[str]:
    """The CUDA libraries an extra installs, for a CUDA major version (12 or 13)."""
    libs: set[str] = set()
    for r in reqs:
        name = r.name.lower()
        if name == f"cupy-cuda{cuda_major}x" and "ctk" in r.extras:
            if r.specifier.contains("13.6.0", prereleases=True):
                continue  # the floor admits a CuPy without the ctk extra: pip would install bare CuPy there
            libs |= CTK_COMPONENTS
        elif name.startswith("nvidia-"):
            stem = name[len("nvidia-"):]
            suffix = f"-cu{cuda_major}"
            if cuda_major == 12 and not stem.endswith(suffix):
                continue  # a CUDA 13 wheel in the CUDA 12 extra loads nothing CuPy for 12 looks for
            stem = stem.removesuffix(suffix)
            if stem in NVIDIA_WHEEL:
                libs.add(NVIDIA_WHEEL[stem])
    return libs


@pytest.mark.parametrize("extra,major", [("cuda12", 12), ("cuda13", 13)])
def test_extra_installs_cupy_and_the_cuda_libraries(extra, major):
    reqs = _extras()[extra]
    cupy = [r for r in reqs if r.name.lower() == f"cupy-cuda{major}x"]
    assert len(cupy) == 1, f"{extra}: expected one cupy-cuda{major}x requirement, got {[str(r) for r in reqs]}"
    spec = cupy[0].specifier
    assert spec.contains("14.2.0"), f"{extra}: {cupy[0]} excludes CuPy 14.2, the version the code is read against"
    assert not spec.contains("13.6.0"), f"{extra}: {cupy[0]} admits CuPy 13, which has no 'ctk' extra"
    missing = NEEDED - resolved_libraries(reqs, major)
    assert not missing, f"{extra} does not install {sorted(missing)}: {[str(r) for r in reqs]}"


def test_the_check_fails_for_a_bare_cupy_wheel():
    bare = _extras('[project.optional-dependencies]\ncuda12 = ["cupy-cuda12x>=13"]\n')["cuda12"]
    assert resolved_libraries(bare, 12) == set()
    old = _extras('[project.optional-dependencies]\ncuda12 = ["cupy-cuda12x[ctk]>=13"]\n')["cuda12"]
    assert resolved_libraries(old, 12) == set()  # CuPy 13.x resolves and ignores the unknown extra
    wheels = _extras('[project.optional-dependencies]\ncuda12 = ["cupy-cuda12x>=13", "nvidia-cublas-cu12",'
                     ' "nvidia-cuda-nvrtc"]\n')["cuda12"]
    assert resolved_libraries(wheels, 12) == {"cublas"}  # the CUDA 13 NVRTC wheel does not count for 12


@pytest.mark.parametrize("major", [12, 13])
def test_recorded_ctk_extra_matches_an_installed_cupy(major):
    try:
        dist = importlib.metadata.distribution(f"cupy-cuda{major}x")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"cupy-cuda{major}x is not installed: the recorded ctk extra is not cross-checked")
    ctk = [Requirement(r) for r in dist.requires or [] if re.search(r"extra\s*==\s*['\"]ctk['\"]", r)]
    if not ctk:
        from packaging.version import Version

        assert Version(dist.version) < Version(CTK_FIRST_VERSION), f"cupy {dist.version} has no ctk extra"
        pytest.skip(f"cupy-cuda{major}x {dist.version} predates the ctk extra")
    toolkit = [r for r in ctk if r.name == "cuda-toolkit"]
    assert toolkit and CTK_COMPONENTS <= set(toolkit[0].extras), [str(r) for r in ctk]


def test_readme_says_which_extra_fits_which_driver():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### CPU and GPU"):]
    section = section[:section.index("\n## ")]
    assert '".[cuda12]"' in section and '".[cuda13]"' in section
    for extra, driver in (("cuda12", ">= 525"), ("cuda13", ">= 580")):  # one table row per extra
        rows = [line for line in section.splitlines() if f'pip install -e ".[{extra}]"' in line]
        assert rows and driver in rows[0], f"README: no row says {extra} needs a driver {driver}"
