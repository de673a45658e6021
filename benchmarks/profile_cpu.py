"""Profile tinytorch's CPU gaps: where a training step or the tiny-op chain spends its time.

    PYTHONPATH=. python benchmarks/profile_cpu.py lenet [--steps 20] [--top 25]

Cases: ``mlp``, ``lenet``, ``encoder`` (one training step, as in bench_models.py), the user workloads
of bench_workloads.py (``charmlp``, ``bigram``, ``bow``, ``gru``, ``rnn``, ``lstm``, ``gpt``: one step) and
``chain`` (the 100-op autograd chain of bench_ops.py). Prints the cumulative time of each op's forward/backward,
cProfile's top functions by own time (CPU time, so other processes do not show), and ``conv`` splits
the ResNet-like conv layer into its im2col copies and GEMMs.
"""
from __future__ import annotations

import os

os.environ.setdefault("TT_BENCH_THREADS", "2")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = os.environ["TT_BENCH_THREADS"]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tinytorch  # noqa: E402
from _harness import make_backend  # noqa: E402

def _model_step(name: str):
    from bench_models import MODELS, make_model

    key = next(k for k in MODELS if k.startswith({"mlp": "mlp", "lenet": "lenet", "encoder": "transformer"}[name]))
    bk = make_backend("tinytorch-cpu")
    _, shape, loss_kind, _ = MODELS[key]
    model = make_model(bk, key)
    F = tinytorch.nn.functional
    rng = np.random.default_rng(0)
    x = tinytorch.tensor(rng.standard_normal(shape, dtype=np.float32))
    if loss_kind == "ce":
        y = tinytorch.tensor(rng.integers(0, 10, shape[0]))
        opt = tinytorch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = F.cross_entropy
    else:
        y = tinytorch.tensor(rng.standard_normal(shape, dtype=np.float32))
        opt = tinytorch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = F.mse_loss

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def _workload_step(name: str):
    from bench_workloads import IDS, WORKLOADS, make_workload

    key = list(WORKLOADS)[IDS.index(name)]
    _, data, make_opt, loss_kind = WORKLOADS[key]
    bk = make_backend("tinytorch-cpu")
    model = make_workload(bk, key)
    x_np, y_np = data()
    x, y = bk.tensor(x_np), bk.tensor(y_np)
    opt = make_opt(tinytorch, model.parameters())
    F = tinytorch.nn.functional

    def step():
        opt.zero_grad()
        out = model(x)
        if loss_kind == "nll":
            loss = F.nll_loss(out, y)
        else:
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        if loss_kind == "ce_clip":
            tinytorch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()

    return step


WORKLOAD_CASES = ["charmlp", "bigram", "bow", "gru", "rnn", "lstm", "gpt"]


def _chain_step():
    x = tinytorch.randn(16, requires_grad=True)

    def step():
        y = x
        for _ in range(50):
            y = y * 1.01
            y = y + 0.1
        y.sum().backward()
        x.grad = None

    return step


def _cpu_min(fn, repeats: int = 7) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def conv_breakdown() -> None:
    """conv2d 3x3 forward and both gradients of the ResNet-like layer, split into NumPy stages."""
    from tinytorch.ops import conv as C

    n, c, k, h, w = 8, 64, 64, 56, 56
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c, 3, 3), dtype=np.float32)
    g = rng.standard_normal((n, k, h, w), dtype=np.float32)
    args = ((1, 1), (1, 1), (1, 1))
    # the ops' own chunk helpers, run on the whole batch as one chunk
    im2col = C._Im2col(np, x, (3, 3), *args, (h, w), n)
    cols = im2col(0, n).reshape(c * 9, n * h * w)
    gbuf = np.empty(k * n * h * w, dtype=g.dtype)
    gt = C._chunk_grad(np, g, 1, gbuf)[0]
    rows = {
        "forward total": lambda: C._conv_forward(np, x, wt, None, *args, 1, (h, w)),
        "  im2col (padded copy + 9x strided copy, whole batch)": lambda: im2col(0, n),
        "  GEMM (K, 9C) @ (9C, NHW)": lambda: wt.reshape(k, -1) @ cols,
        "dgrad total": lambda: C._conv_input_grad(np, g, wt, (h, w), *args, 1),
        "  grad to (K, NHW) copy": lambda: C._chunk_grad(np, g, 1, gbuf),
        "  GEMM (9C, K) @ (K, NHW)": lambda: wt.reshape(k, -1).T @ gt,
        "wgrad total (im2col recomputed)": lambda: C._conv_weight_grad(np, x, g, (3, 3), *args, 1),
        "  GEMM (K, NHW) @ (NHW, 9C)": lambda: gt @ cols.T,
    }
    flops = 2 * n * k * h * w * c * 9
    for name, fn in rows.items():
        t = _cpu_min(fn)
        extra = f"  {flops / t / 1e9:6.1f} GFLOP/s" if "GEMM" in name or "total" in name else ""
        print(f"{name:55s} {t * 1e3:8.2f} ms CPU{extra}")
    torch = None
    try:
        import torch
    except ImportError:
        pass
    if torch is not None:
        torch.set_num_threads(int(os.environ["TT_BENCH_THREADS"]))
        tx, tw = torch.from_numpy(x), torch.from_numpy(wt)
        t = _cpu_min(lambda: torch.nn.functional.conv2d(tx, tw, padding=1))
        print(f"{'torch conv2d forward':55s} {t * 1e3:8.2f} ms CPU  {flops / t / 1e9:6.1f} GFLOP/s")


def per_op(stats: pstats.Stats, steps: int, top: int) -> None:
    """Cumulative time of each op's forward/backward (NumPy work included), per step."""
    rows = []
    for (filename, line, func), (_, _, _, cumtime, _) in stats.stats.items():
        if func in ("forward", "backward", "backward_arrays", "step") and "tinytorch" in filename:
            rows.append((cumtime / steps, f"{os.path.relpath(filename)}:{line} {func}"))
    rows.sort(reverse=True)
    print("per-op cumulative time per step (ms), forward/backward methods:")
    for t, name in rows[:top]:
        print(f"  {t * 1e3:8.3f}  {name}")


def split(stats: pstats.Stats) -> dict:
    """Own time of NumPy/builtin C functions called directly versus Python frames.

    cProfile does not see ufunc calls or array operators (``a @ b``, ``np.matmul``, ``a + b``): their
    time lands in the calling Python function's own time, so "python" is an upper bound on the
    interpreter overhead; ``conv`` and the per-op view separate the array work instead.
    """
    c_funcs = python = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        if filename == "~":
            c_funcs += tottime
        else:
            python += tottime
    return {"total": c_funcs + python, "c_functions": c_funcs, "python_frames_incl_ufuncs": python}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", choices=["mlp", "lenet", "encoder", "chain", "conv", *WORKLOAD_CASES])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    if args.case == "conv":
        conv_breakdown()
        return 0
    if args.case == "chain":
        step = _chain_step()
    elif args.case in WORKLOAD_CASES:
        step = _workload_step(args.case)
    else:
        step = _model_step(args.case)
    for _ in range(3):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    wall = (time.perf_counter() - t0) / args.steps
    cpu = (time.process_time() - c0) / args.steps
    # CPU time, not wall time: other processes on a shared machine then do not show up in the profile
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(args.steps):
        step()
    prof.disable()
    stats = pstats.Stats(prof)
    s = split(stats)
    print(f"{args.case}: {wall * 1e3:.3f} ms/step wall, {cpu * 1e3:.3f} ms/step CPU (all threads) unprofiled; "
          "profiled split per step: "
          + ", ".join(f"{k} {v / args.steps * 1e3:.3f} ms ({100 * v / s['total']:.0f} %)"
                      for k, v in s.items() if k != "total"))
    per_op(stats, args.steps, args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
