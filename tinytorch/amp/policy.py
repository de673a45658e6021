"""The autocast op policy: PyTorch's published lists, and which torch op each of tinytorch's ops is.

Two tables, kept apart on purpose:

* ``LOWER`` / ``FP32`` / ``PROMOTE`` / ``REFUSE``: per device type, the op names exactly as PyTorch's
  "Autocast Op Reference" publishes them (docs/source/amp.md, torch 2.x). ``tests/amp`` checks the
  behaviour they produce against PyTorch itself.
* ``FUNCTION_OPS``: which torch op a tinytorch ``Function`` class implements (keyed by
  ``module.ClassName``), for the hook in ``Function.apply``. Public functions that are composed of
  several Functions declare their torch op with ``@tinytorch.amp.autocast_op("name")`` instead.

Categories, as torch's ``CastPolicy``: ``lower`` casts floating inputs to the autocast dtype; ``fp32``
casts them to float32; ``promote`` casts them to the widest floating input type; ``refuse`` raises
(CUDA ``binary_cross_entropy``); an op in no list runs in its inputs' dtypes.
"""
from __future__ import annotations

# ---- PyTorch's lists, verbatim --------------------------------------------------------------------------
_CUDA_LOWER = frozenset("""
    __matmul__ addbmm addmm addmv addr baddbmm bmm chain_matmul multi_dot conv1d conv2d conv3d conv_transpose1d
    conv_transpose2d conv_transpose3d GRUCell linear LSTMCell matmul mm mv prelu RNNCell
    scaled_dot_product_attention
""".split())  # scaled_dot_product_attention: in ATen's CUDA lower-precision registrations, not in the doc page
_CUDA_FP32 = frozenset("""
    __pow__ __rdiv__ __rpow__ __rtruediv__ acos asin binary_cross_entropy_with_logits cosh cosine_embedding_loss
    cdist cosine_similarity cross_entropy cumprod cumsum dist erfinv exp expm1 group_norm hinge_embedding_loss
    kl_div l1_loss layer_norm log log_softmax log10 log1p log2 margin_ranking_loss mse_loss
    multilabel_margin_loss multi_margin_loss nll_loss norm normalize pdist poisson_nll_loss pow prod reciprocal
    rsqrt sinh smooth_l1_loss soft_margin_loss softmax softmin softplus sum renorm tan triplet_margin_loss
""".split())
_CUDA_PROMOTE = frozenset("addcdiv addcmul atan2 bilinear cross dot grid_sample index_put scatter_add tensordot".split())

_CPU_LOWER = frozenset("""
    conv1d conv2d conv3d bmm mm linalg_vecdot baddbmm addmm addbmm linear matmul _convolution conv_tbc
    mkldnn_rnn_layer conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention
    _native_multi_head_attention
""".split())
_CPU_FP32 = frozenset("""
    avg_pool3d binary_cross_entropy grid_sampler grid_sampler_2d _grid_sampler_2d_cpu_fallback grid_sampler_3d
    polar prod quantile nanquantile stft cdist trace view_as_complex cholesky_inverse cholesky_solve inverse
    lu_solve orgqr ormqr pinverse max_pool3d max_unpool2d max_unpool3d adaptive_avg_pool3d reflection_pad1d
    reflection_pad2d replication_pad1d replication_pad2d replication_pad3d mse_loss cosine_embedding_loss
    nll_loss nll_loss2d hinge_embedding_loss poisson_nll_loss cross_entropy_loss l1_loss huber_loss
    margin_ranking_loss soft_margin_loss triplet_margin_loss multi_margin_loss ctc_loss kl_div
    multilabel_margin_loss binary_cross_entropy_with_logits fft_fft fft_ifft fft_fft2 fft_ifft2 fft_fftn
    fft_ifftn fft_rfft fft_irfft fft_rfft2 fft_irfft2 fft_rfftn fft_irfftn fft_hfft fft_ihfft linalg_cond
    linalg_matrix_rank linalg_solve linalg_cholesky linalg_svdvals linalg_eigvals linalg_eigvalsh linalg_inv
    linalg_householder_product linalg_tensorinv linalg_tensorsolve fake_quantize_per_tensor_affine geqrf
    _lu_with_info qr svd triangular_solve fractional_max_pool2d fractional_max_pool3d adaptive_max_pool3d
    multilabel_margin_loss_forward linalg_qr linalg_cholesky_ex linalg_svd linalg_eig linalg_eigh linalg_lstsq
    linalg_inv_ex smooth_l1_loss
""".split())  # smooth_l1_loss: torch's CPU autocast casts it to float32 (checked against torch 2.13); the page omits it
_CPU_PROMOTE = frozenset("cat stack index_copy".split())

LOWER = {"cuda": _CUDA_LOWER, "cpu": _CPU_LOWER}
FP32 = {"cuda": _CUDA_FP32, "cpu": _CPU_FP32}
PROMOTE = {"cuda": _CUDA_PROMOTE, "cpu": _CPU_PROMOTE}
# binary_cross_entropy's backward can produce gradients float16 cannot hold: torch refuses it under CUDA
# autocast (the CPU list casts it to float32 instead)
REFUSE = {"cuda": frozenset({"binary_cross_entropy"}), "cpu": frozenset()}

# ---- tinytorch's Functions -> the torch op each implements ----------------------------------------------
# Several names: the first one a device's lists know wins (torch spells some ops differently per device).
FUNCTION_OPS: dict[str, tuple[str, ...]] = {
    "tinytorch.ops.linalg.MatMul": ("matmul",),
    "tinytorch.ops.linalg.Linear": ("linear",),
    "tinytorch.ops.conv.Conv2d": ("conv2d",),
    "tinytorch.ops.conv.ConvTranspose2d": ("conv_transpose2d",),
    "tinytorch.nn.fusion.LinearAct": ("linear",),
    "tinytorch.nn.fusion.ConvReLU": ("conv2d",),
    "tinytorch.ops.sparse.SparseMM": ("mm",),
    "tinytorch.ops.reduce.Softmax": ("softmax",),
    "tinytorch.ops.reduce.LogSoftmax": ("log_softmax",),
    "tinytorch.ops.reduce.Sum": ("sum",),
    "tinytorch.ops.reduce.Prod": ("prod",),
    "tinytorch.ops.reduce.Cumsum": ("cumsum",),
    "tinytorch.ops.reduce.Cumprod": ("cumprod",),
    "tinytorch.ops.elementwise.Exp": ("exp",),
    "tinytorch.ops.elementwise.Expm1": ("expm1",),
    "tinytorch.ops.elementwise.Log": ("log",),
    "tinytorch.ops.elementwise.Log1p": ("log1p",),
    "tinytorch.ops.elementwise.Log2": ("log2",),
    "tinytorch.ops.elementwise.Log10": ("log10",),
    "tinytorch.ops.elementwise.Pow": ("pow",),
    "tinytorch.ops.elementwise.PowScalar": ("pow",),
    "tinytorch.ops.elementwise.ScalarPow": ("__rpow__",),
    "tinytorch.ops.elementwise.Reciprocal": ("reciprocal",),
    "tinytorch.ops.elementwise.Rsqrt": ("rsqrt",),
    "tinytorch.ops.elementwise.Asin": ("asin",),
    "tinytorch.ops.elementwise.Acos": ("acos",),
    "tinytorch.ops.elementwise.Sinh": ("sinh",),
    "tinytorch.ops.elementwise.Cosh": ("cosh",),
    "tinytorch.ops.elementwise.Tan": ("tan",),
    "tinytorch.ops.elementwise.Erfinv": ("erfinv",),
    "tinytorch.ops.elementwise.Atan2": ("atan2",),
    "tinytorch.ops.activation.Softplus": ("softplus",),
    "tinytorch.ops.loss.CrossEntropyIndices": ("cross_entropy", "cross_entropy_loss"),
    "tinytorch.ops.loss.BinaryCrossEntropy": ("binary_cross_entropy",),
    "tinytorch.ops.index.IndexPut": ("index_put",),
    "tinytorch.ops.index.ScatterAddInto": ("scatter_add",),
    "tinytorch.ops.shape.Cat": ("cat",),
    "tinytorch.ops.shape.Stack": ("stack",),
    "tinytorch.ops._linalg.Inv": ("linalg_inv",),
    "tinytorch.ops._linalg.Solve": ("linalg_solve",),
    "tinytorch.ops._linalg.Cholesky": ("linalg_cholesky",),
    "tinytorch.ops._linalg.QR": ("linalg_qr",),
    "tinytorch.ops._linalg.SVD": ("linalg_svd",),
    "tinytorch.ops._linalg.Eigh": ("linalg_eigh",),
}


def category(names: tuple[str, ...], device_type: str) -> str | None:
    """'lower', 'fp32', 'promote', 'refuse' or None for the first of ``names`` that ``device_type``'s lists know."""
    for n in names:
        if n in REFUSE.get(device_type, ()):
            return "refuse"
        if n in LOWER.get(device_type, ()):
            return "lower"
        if n in FP32.get(device_type, ()):
            return "fp32"
        if n in PROMOTE.get(device_type, ()):
            return "promote"
    return None


def function_ops(cls) -> tuple[str, ...] | None:
    """The torch op names a Function class implements, or None when it has no autocast policy anywhere."""
    return FUNCTION_OPS.get(f"{cls.__module__}.{cls.__qualname__}")
