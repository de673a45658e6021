"""CPU emulation of tinytorch's CUDA kernels (g++ + fibers), for tests on machines without a GPU."""
