"""Writing your own differentiable op with ``torch.autograd.Function`` — and giving it a CUDA kernel.

The op is Swish with a learnable slope, ``swish(x, beta) = x * sigmoid(beta * x)`` (Ramachandran
et al., 2017). The recipe is PyTorch's:

1. subclass ``torch.autograd.Function``; ``forward(ctx, ...)`` computes the result and saves
   what backward needs with ``ctx.save_for_backward``;
2. ``backward(ctx, grad)`` returns one gradient per forward input, written with tensor ops
   (so it can itself be differentiated: second derivatives work);
3. check it with ``torch.autograd.gradcheck`` (and ``gradgradcheck``) in float64;
4. optionally, run the forward as a hand-written CUDA kernel (``cupy.RawKernel``) when the
   input lives on a GPU, sharing memory with tinytorch through DLPack.

    python examples/custom_op.py                      # checks, a small fit, examples/images/custom_op.png
    python examples/custom_op.py --device cuda        # also runs and checks the CUDA kernel
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

import tinytorch as torch
import tinytorch.nn as nn
import tinytorch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent

# One thread per element; ``T`` is float or double (two instantiations below). Launched by
# ``_swish_cuda`` with a 1-D grid over the flattened, contiguous input.
_CUDA_SOURCE = r"""
template <typename T>
__device__ void swish_forward(const T* x, const T* beta, T* out, long long n) {
    long long i = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (i < n) {
        T b = beta[0];
        out[i] = x[i] / (T(1) + exp(-b * x[i]));
    }
}
extern "C" __global__ void swish_forward_f32(const float* x, const float* beta, float* out, long long n) {
    swish_forward<float>(x, beta, out, n);
}
extern "C" __global__ void swish_forward_f64(const double* x, const double* beta, double* out, long long n) {
    swish_forward<double>(x, beta, out, n);
}
"""
_kernels = {}


def _swish_cuda(x, beta):
    """The forward on the GPU through cupy.RawKernel; beta must be a 1-element tensor."""
    import cupy

    name = {torch.float32: "swish_forward_f32", torch.float64: "swish_forward_f64"}[x.dtype]
    if name not in _kernels:
        _kernels[name] = cupy.RawKernel(_CUDA_SOURCE, name, options=("-std=c++11",))
    xc = cupy.from_dlpack(x.contiguous())          # zero-copy views of the tensors' memory
    bc = cupy.from_dlpack(beta.contiguous())
    out = cupy.empty_like(xc)
    n = xc.size
    threads = 256
    _kernels[name](((n + threads - 1) // threads,), (threads,), (xc, bc, out, cupy.int64(n)))
    return torch.from_dlpack(out)


class Swish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x, beta)
        if x.is_cuda and beta.numel() == 1 and x.dtype in (torch.float32, torch.float64):
            return _swish_cuda(x, beta.to(x.dtype))
        return x * torch.sigmoid(beta * x)

    @staticmethod
    def backward(ctx, grad):
        x, beta = ctx.saved_tensors
        s = torch.sigmoid(beta * x)
        ds = s * (1 - s)                                   # sigmoid'(beta * x)
        gx = grad * (s + beta * x * ds) if ctx.needs_input_grad[0] else None
        # beta broadcasts against x: return the gradient in x's shape, autograd sums it back to beta's
        gbeta = grad * x * x * ds if ctx.needs_input_grad[1] else None
        return gx, gbeta


def swish(x, beta):
    return Swish.apply(x, beta)


class SwishMLP(nn.Module):
    """A 1 -> 32 -> 32 -> 1 MLP whose activations are Swish with one learnable beta per layer."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(1, 32), nn.Linear(32, 32), nn.Linear(32, 1)
        self.beta1 = nn.Parameter(torch.ones(1))
        self.beta2 = nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = swish(self.fc1(x), self.beta1)
        x = swish(self.fc2(x), self.beta2)
        return self.fc3(x)


def pick_device(name: str):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check(device) -> None:
    x = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    beta = torch.tensor([0.7], dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(swish, (x, beta)), "first derivatives disagree with finite differences"
    assert torch.autograd.gradgradcheck(swish, (x, beta)), "second derivatives disagree"
    print(f"gradcheck and gradgradcheck passed on {device}")
    if device.type == "cuda":
        with torch.no_grad():
            ref = x * torch.sigmoid(beta * x)
            got = swish(x, beta)
        err = (got - ref).abs().max().item()
        assert err < 1e-12, f"CUDA kernel differs from the tensor-op forward by {err}"
        print(f"cupy.RawKernel forward matches the tensor-op forward (max error {err:.1e})")


def plot(model, x, y, losses, device, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = torch.linspace(-5, 5, 201, dtype=torch.float64, requires_grad=True)
    for b, color in ((0.5, "#1b9e77"), (1.0, "#d95f02"), (3.0, "#7570b3")):
        beta = torch.tensor([b], dtype=torch.float64)
        out = swish(grid, beta)
        (g,) = torch.autograd.grad(out.sum(), grid)
        xs = grid.detach().numpy()
        ax1.plot(xs, out.detach().numpy(), color=color, label=f"swish, beta={b}")
        ax1.plot(xs, g.numpy(), "--", color=color, lw=1, label=f"d/dx (backward), beta={b}")
        # finite differences at a few points: dots must sit on the dashed curves
        pts = np.linspace(-4.5, 4.5, 10)
        h = 1e-5
        f = lambda v: (v / (1 + np.exp(-b * v)))  # noqa: E731
        ax1.plot(pts, (f(pts + h) - f(pts - h)) / (2 * h), "o", color=color, ms=3)
    ax1.set_title("custom op: value, backward (dashed), finite differences (dots)", fontsize=9)
    ax1.legend(fontsize=7)
    ax1.set_ylim(-1.5, 5)
    model.eval()
    with torch.no_grad():
        pred = model(x.to(device)).cpu()
    ax2.plot(x.numpy().ravel(), y.numpy().ravel(), ".", ms=3, color="#999999", label="data: sin(2x) + noise")
    ax2.plot(x.numpy().ravel(), pred.numpy().ravel(), color="#d62728",
             label=f"Swish MLP (betas {model.beta1.item():.2f}, {model.beta2.item():.2f})")
    ax2.set_title(f"fit with learnable betas (final MSE {losses[-1]:.4f})")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--smoke", action="store_true", help="a short run (for tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "images" / "custom_op.png")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    steps = 150 if args.smoke else args.steps

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    check(device)

    x = torch.linspace(-3, 3, 256).unsqueeze(1)
    y = torch.sin(2 * x) + 0.05 * torch.randn(256, 1)
    model = SwishMLP().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    xd, yd = x.to(device), y.to(device)
    losses = []
    for step in range(steps):
        loss = F.mse_loss(model(xd), yd)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % max(1, steps // 5) == 0:
            print(f"step {step + 1:5d}  mse {loss.item():.4f}  beta1 {model.beta1.item():.3f}  "
                  f"beta2 {model.beta2.item():.3f}")
    if not args.no_plot:
        plot(model, x, y, losses, device, args.out)
        print(f"wrote {args.out}")
    return losses[-1]


if __name__ == "__main__":
    main()
