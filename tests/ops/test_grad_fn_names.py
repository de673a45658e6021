"""grad_fn names match PyTorch's (``ExpBackward0``, ``FloorBackward0``) for every registry op.

For each op with a PyTorch counterpart, the first sample's first output is built by both libraries and
``y.grad_fn.name()`` compared with ``type(y.grad_fn).__name__`` in torch (tinytorch's grad_fn classes are
its Function classes; ``name()`` is the node name torch shows). ``DIFFERENT`` lists the ops whose names
still differ, with tinytorch's current name: ops composed from other ops (losses, norms, many views that
share one Function), fused ops torch does not have, and Functions that serve several torch overloads. The
list is exact both ways: an op that starts to match, or one whose name changes, must be updated here.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tests.helpers import build_args, host, outputs_of
from tests.opinfo import registry

OPS = [op for op in registry.all_ops() if op.torch_fn is not None and not op.nondeterministic]

DIFFERENT = {
    "rnn_tanh_cell": "RecurrentLayerBackward0",  # torch: TanhBackward0 (one fused node per step, torch composes the cell)
    "rnn_relu_cell": "RecurrentLayerBackward0",  # torch: ReluBackward0 (one fused node per step, torch composes the cell)
    "lstm_cell": "RecurrentLayerBackward0",  # torch: MulBackward0 (one fused node per step, torch composes the cell)
    "gru_cell": "RecurrentLayerBackward0",  # torch: AddBackward0 (one fused node per step, torch composes the cell)
    "adaptive_avg_pool1d": "SeparableBackward0",  # torch: SqueezeBackward1
    "adaptive_avg_pool2d": "SeparableBackward0",  # torch: AdaptiveAvgPool2DBackward0
    "adaptive_max_pool1d": "ReshapeBackward0",  # torch: SqueezeBackward1
    "addcdiv": "AddBackward0",  # torch: AddcdivBackward0
    "addcmul": "AddBackward0",  # torch: AddcmulBackward0
    "addmm": "AddBackward0",  # torch: AddmmBackward0
    "addmv": "AddBackward0",  # torch: AddmvBackward0
    "addr": "AddBackward0",  # torch: AddrBackward0
    "amax": "ExtremeBackward0",  # torch: AmaxBackward0
    "amin": "ExtremeBackward0",  # torch: AminBackward0
    "avg_pool1d": "ReshapeBackward0",  # torch: SqueezeBackward1
    "baddbmm": "AddBackward0",  # torch: BaddbmmBackward0
    "batch_norm": "StandardizeBackward0",  # torch: NativeBatchNormBackward0
    "binary_cross_entropy": "DivBackward0",  # torch: BinaryCrossEntropyBackward0
    "binary_cross_entropy_with_logits": "DivBackward0",  # torch: BinaryCrossEntropyWithLogitsBackward0
    "bmm": "MatMulBackward0",  # torch: BmmBackward0
    "cdist": "VectorNorm2Backward0",  # torch: CdistBackward0
    "celu": "EluFamilyBackward0",  # torch: CeluBackward0
    "clamp": "ClampBackward0",  # torch: ClampBackward1
    "conv1d": "ReshapeBackward0",  # torch: ConvolutionBackward0
    "conv2d_relu": "ConvReLUBackward0",  # torch: ReluBackward0
    "conv_transpose1d": "ReshapeBackward0",  # torch: ConvolutionBackward0
    "cosine_embedding_loss": "DivBackward0",  # torch: MeanBackward0
    "cosine_similarity": "SumBackward0",  # torch: SumBackward1
    "cross_entropy": "CrossEntropyIndicesBackward0",  # torch: NllLossBackward0
    "diag": "DiagScatterBackward0",  # torch: DiagEmbedBackward0
    "diag_embed": "DiagScatterBackward0",  # torch: DiagEmbedBackward0
    "digamma": "PolygammaBackward0",  # torch: DigammaBackward0
    "dot": "ReshapeBackward0",  # torch: DotBackward0
    "einsum": "EinsumBackward0",  # torch: ViewBackward0
    "elu": "EluFamilyBackward0",  # torch: EluBackward0
    "embedding_bag": "AddBackward0",  # torch: EmbeddingBagBackward0
    "flatten": "ReshapeBackward0",  # torch: ViewBackward0
    "floor_divide": "_ZeroGradBackward0",  # torch: DivBackward2
    "fmax": "_SelectBackward0",  # torch: FmaxBackward0
    "fmin": "_SelectBackward0",  # torch: FminBackward0
    "fmod": "FmodBackward0",  # torch: FmodBackward1
    "frac": "SubBackward0",  # torch: FracBackward0
    "gaussian_nll_loss": "DivBackward0",  # torch: MeanBackward0
    "getitem": "GetItemBackward0",  # torch: SliceBackward0
    "glu": "MulBackward0",  # torch: GluBackward0
    "group_norm": "AddBackward0",  # torch: NativeGroupNormBackward0
    "hardshrink": "PiecewiseLinearBackward0",  # torch: HardshrinkBackward0
    "hardsigmoid": "PiecewiseLinearBackward0",  # torch: HardsigmoidBackward0
    "hardtanh": "PiecewiseLinearBackward0",  # torch: HardtanhBackward0
    "hinge_embedding_loss": "DivBackward0",  # torch: MeanBackward0
    "huber_loss": "DivBackward0",  # torch: HuberLossBackward0
    "igammac": "IgammaBackward0",  # torch: IgammacBackward0
    "index_add": "AddBackward0",  # torch: IndexAddBackward0
    "index_copy": "IndexPutBackward0",  # torch: IndexCopyBackward0
    "index_fill": "IndexPutBackward0",  # torch: IndexFillBackward0
    "index_put": "IndexPutBackward0",  # torch: CopySlices
    "index_select": "GetItemBackward0",  # torch: IndexSelectBackward0
    "inner": "EinsumBackward0",  # torch: ViewBackward0
    "instance_norm": "StandardizeBackward0",  # torch: ViewBackward0
    "interpolate": "AxisTapsBackward0",  # torch: UpsampleNearest2DBackward0
    "interpolate_bicubic_area": "AxisTapsBackward0",  # torch: UpsampleBicubic2DBackward0
    "kl_div": "DivBackward0",  # torch: MeanBackward0
    "kron": "ReshapeBackward0",  # torch: UnsafeViewBackward0
    "kthvalue": "ReshapeBackward0",  # torch: KthvalueBackward0
    "l1_loss": "DivBackward0",  # torch: MeanBackward0
    "layer_norm": "StandardizeBackward0",  # torch: NativeLayerNormBackward0
    "leaky_relu": "PiecewiseLinearBackward0",  # torch: LeakyReluBackward0
    "lerp": "AddBackward0",  # torch: LerpBackward0
    "linalg.cross": "StackBackward0",  # torch: LinalgCrossBackward0
    "linalg.matrix_norm": "VectorNorm2Backward0",  # torch: LinalgVectorNormBackward0
    "linalg.multi_dot": "ReshapeBackward0",  # torch: ViewBackward0
    "linalg.norm": "VectorNorm2Backward0",  # torch: LinalgVectorNormBackward0
    "linalg.pinv": "MatMulBackward0",  # torch: LinalgPinvBackward0
    "linalg.slogdet": None,  # torch: LinalgSlogdetBackward0
    "linalg.vector_norm": "VectorNorm2Backward0",  # torch: LinalgVectorNormBackward0
    "linear": "LinearBackward0",  # torch: ViewBackward0
    "linear_act": "LinearActBackward0",  # torch: ReluBackward0
    "margin_ranking_loss": "DivBackward0",  # torch: MeanBackward0
    "masked_scatter": "IndexPutBackward0",  # torch: MaskedScatterBackward0
    "masked_select": "GetItemBackward0",  # torch: MaskedSelectBackward0
    "matmul": "MatMulBackward0",  # torch: MmBackward0
    "max": "ExtremeBackward0",  # torch: MaxBackward1
    "max_binary": "_SelectBackward0",  # torch: MaximumBackward0
    "max_pool1d": "ReshapeBackward0",  # torch: SqueezeBackward1
    "max_unpool2d_1d": "_FlatScatterBackward0",  # torch: MaxUnpool2DBackward0
    "maximum": "_SelectBackward0",  # torch: MaximumBackward0
    "median": "ReshapeBackward0",  # torch: MedianBackward0
    "min": "ExtremeBackward0",  # torch: MinBackward1
    "minimum": "_SelectBackward0",  # torch: MinimumBackward0
    "mish": "MulBackward0",  # torch: MishBackward0
    "mm": "MatMulBackward0",  # torch: MmBackward0
    "mse_loss": "DivBackward0",  # torch: MseLossBackward0
    "multi_margin_loss": "DivBackward0",  # torch: MultiMarginLossBackward0
    "multilabel_margin_loss": "DivBackward0",  # torch: MultilabelMarginLossBackward0
    "multilabel_soft_margin_loss": "DivBackward0",  # torch: MeanBackward0
    "mv": "ReshapeBackward0",  # torch: MvBackward0
    "narrow": "GetItemBackward0",  # torch: SliceBackward0
    "norm": "Norm2Backward0",  # torch: LinalgVectorNormBackward0
    "norm_smooth": "Norm2Backward0",  # torch: LinalgVectorNormBackward0
    "pairwise_distance": "Norm2Backward0",  # torch: NormBackward1
    "pixel_shuffle": "ReshapeBackward0",  # torch: PixelShuffleBackward0
    "pixel_unshuffle": "ReshapeBackward0",  # torch: PixelUnshuffleBackward0
    "poisson_nll_loss": "DivBackward0",  # torch: MeanBackward0
    "prelu": "WhereBackward0",  # torch: PreluKernelBackward0
    "relu6": "PiecewiseLinearBackward0",  # torch: HardtanhBackward0
    "remainder": "RemainderBackward0",  # torch: RemainderBackward1
    "repeat": "ReshapeBackward0",  # torch: RepeatBackward0
    "repeat_interleave": "GetItemBackward0",  # torch: ViewBackward0
    "reshape": "ReshapeBackward0",  # torch: ViewBackward0
    "roll": "ReshapeBackward0",  # torch: RollBackward0
    "rot90": "PermuteBackward0",  # torch: Rot90Backward0
    "scaled_dot_product_attention": "MatMulBackward0",  # torch: UnsafeViewBackward0
    "scatter": "ScatterSetBackward0",  # torch: ScatterBackward0
    "scatter_add": "AddBackward0",  # torch: ScatterAddBackward0
    "segment_sum": "SegmentSumBackward0",  # torch: IndexAddBackward0
    "select": "GetItemBackward0",  # torch: SelectBackward0
    "selu": "EluFamilyBackward0",  # torch: EluBackward0
    "silu": "MulBackward0",  # torch: SiluBackward0
    "smooth_l1_loss": "DivBackward0",  # torch: SmoothL1LossBackward0
    "soft_margin_loss": "DivBackward0",  # torch: SoftMarginLossBackward0
    "softshrink": "PiecewiseLinearBackward0",  # torch: SoftshrinkBackward0
    "sort": "GatherBackward0",  # torch: SortBackward1
    "sparse.mm": "SparseMMBackward0",  # torch: SparseAddmmBackward0
    "squeeze": "ReshapeBackward0",  # torch: SqueezeBackward0
    "std": "SqrtBackward0",  # torch: StdBackward0
    "std_mean": "SqrtBackward0",  # torch: StdMeanBackward0
    "sum_to_size": "SumToSizeBackward0",  # torch: ViewBackward0
    "t": "PermuteBackward0",  # torch: TBackward0
    "take": "GetItemBackward0",  # torch: TakeBackward0
    "tensordot": "EinsumBackward0",  # torch: ViewBackward0
    "threshold": "PiecewiseLinearBackward0",  # torch: ThresholdBackward0
    "tile": "ReshapeBackward0",  # torch: RepeatBackward0
    "topk": "GatherBackward0",  # torch: TopkBackward0
    "trace": "SumBackward0",  # torch: TraceBackward0
    "transpose": "PermuteBackward0",  # torch: TransposeBackward0
    "tril": "TriBackward0",  # torch: TrilBackward0
    "triplet_margin_loss": "DivBackward0",  # torch: MeanBackward0
    "triplet_margin_with_distance_loss": "DivBackward0",  # torch: MeanBackward0
    "triu": "TriBackward0",  # torch: TriuBackward0
    "unflatten": "ReshapeBackward0",  # torch: ViewBackward0
    "unsqueeze": "ReshapeBackward0",  # torch: UnsqueezeBackward0
    "var": "DivBackward0",  # torch: VarBackward0
    "var_mean": "DivBackward0",  # torch: VarMeanBackward0
}


def _first_output_names(op, torch):
    s = op.sample_inputs(np.random.default_rng(0))[0]
    args, kwargs = build_args(s, "cpu")

    def to_torch(x):
        if isinstance(x, tinytorch.Tensor):
            return torch.from_numpy(np.array(host(x))).requires_grad_(x.requires_grad)
        if isinstance(x, list) and x and isinstance(x[0], tinytorch.Tensor):
            return [to_torch(i) for i in x]
        return x

    ours = outputs_of(op.op(*args, **kwargs))[0]
    theirs = op.torch_fn(torch, *[to_torch(a) for a in args], **{k: to_torch(v) for k, v in kwargs.items()})
    theirs = theirs[0] if isinstance(theirs, (tuple, list)) else theirs
    return (None if ours.grad_fn is None else ours.grad_fn.name(),
            None if theirs.grad_fn is None else type(theirs.grad_fn).__name__)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_grad_fn_name_matches_torch(op):
    torch = pytest.importorskip("torch")
    ours, theirs = _first_output_names(op, torch)
    if op.name in DIFFERENT:
        assert ours == DIFFERENT[op.name], (
            f"{op.name}: grad_fn is now {ours} (torch: {theirs}); update DIFFERENT, or drop the entry if it matches")
        assert ours != theirs, f"{op.name}: grad_fn {ours} now matches torch; remove it from DIFFERENT"
    else:
        assert ours == theirs, f"{op.name}: grad_fn {ours}, torch's is {theirs}"


def test_different_names_only_registry_ops():
    names = {op.name for op in OPS}
    assert set(DIFFERENT) <= names, sorted(set(DIFFERENT) - names)


def test_unary_table_names():
    """The table-built unary ops and the rounding ops carry torch's names, and the table's classes keep
    their backward_arrays fast paths where the hand-written ones had them."""
    x = tinytorch.rand(3, dtype=tinytorch.float64, requires_grad=True)
    for fn, want in [(tinytorch.exp, "ExpBackward0"), (tinytorch.log1p, "Log1PBackward0"),
                     (tinytorch.log2, "Log2Backward0"), (tinytorch.log10, "Log10Backward0"),
                     (tinytorch.floor, "FloorBackward0"), (tinytorch.sign, "SignBackward0"),
                     (tinytorch.trunc, "TruncBackward0"), (tinytorch.fix, "TruncBackward0"),
                     (lambda t: tinytorch.round(t, decimals=1), "RoundBackward1"),
                     (lambda t: t ** 2, "PowBackward0"), (lambda t: t ** t, "PowBackward1"),
                     (lambda t: 2 ** t, "PowBackward2")]:
        assert fn(x).grad_fn.name() == want
    for fn in (tinytorch.tanh, tinytorch.sigmoid):
        assert type(fn(x).grad_fn).backward_arrays is not None
    assert type(tinytorch.exp(x).grad_fn).backward_arrays is None
