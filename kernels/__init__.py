"""CUDA sources of tinytorch (installed as the ``tinytorch._kernels`` package)."""
