"""``tinytorch.ops``: every tensor op, one family per module.

Each family module defines its ``Function`` classes and the public functions next to them, lists those in its
``__all__``, and names in ``TENSOR_METHODS`` the ones that are also ``Tensor`` methods (``tensor.py`` attaches
exactly those; ``tinytorch/tensor.pyi`` declares them for type checkers). The re-exports below are written out so
static tools see every name; tests/ops/test_exports.py holds them equal to the families' ``__all__``.
"""
from . import (
    convert, elementwise, reduce, shape, index, linalg, inplace, random_ops, activation, conv, pool, normalization,
    loss, sparse, gamma, rnn,
)
from .convert import (
    to_dtype as to_dtype, to as to, clone as clone, contiguous as contiguous, as_tensor_like as as_tensor_like,
)
from .elementwise import (
    add as add, sub as sub, mul as mul, div as div, floor_divide as floor_divide, remainder as remainder, fmod as fmod,
    pow as pow, neg as neg, abs as abs, reciprocal as reciprocal, eq as eq, ne as ne, lt as lt, le as le, gt as gt,
    ge as ge, isclose as isclose, allclose as allclose, equal as equal, bitwise_and as bitwise_and,
    bitwise_or as bitwise_or, bitwise_xor as bitwise_xor, bitwise_not as bitwise_not, logical_and as logical_and,
    logical_or as logical_or, logical_xor as logical_xor, logical_not as logical_not, exp as exp, exp2 as exp2,
    expm1 as expm1, log as log, log1p as log1p, log2 as log2, log10 as log10, sqrt as sqrt, rsqrt as rsqrt,
    square as square, sin as sin, cos as cos, tan as tan, asin as asin, acos as acos, atan as atan, atan2 as atan2,
    sinh as sinh, cosh as cosh, tanh as tanh, sigmoid as sigmoid, relu as relu, erf as erf, erfc as erfc,
    erfinv as erfinv, sign as sign, floor as floor, ceil as ceil, round as round, trunc as trunc, frac as frac,
    clamp as clamp, clip as clip, clamp_min as clamp_min, clamp_max as clamp_max, maximum as maximum,
    minimum as minimum, fmax as fmax, fmin as fmin, where as where, isnan as isnan, isinf as isinf,
    isfinite as isfinite, isposinf as isposinf, isneginf as isneginf, nan_to_num as nan_to_num, lerp as lerp,
    addcmul as addcmul, addcdiv as addcdiv, hypot as hypot, logaddexp as logaddexp, copysign as copysign,
    subtract as subtract, multiply as multiply, divide as divide, true_divide as true_divide, negative as negative,
    absolute as absolute, arctan2 as arctan2, fix as fix, greater as greater, greater_equal as greater_equal,
    less as less, less_equal as less_equal, not_equal as not_equal,
)
from .reduce import (
    sum as sum, sum_to_size as sum_to_size, mean as mean, prod as prod, max as max, min as min, amax as amax,
    amin as amin, aminmax as aminmax, argmax as argmax, argmin as argmin, var as var, std as std, var_mean as var_mean,
    std_mean as std_mean, norm as norm, logsumexp as logsumexp, all as all, any as any, count_nonzero as count_nonzero,
    cumsum as cumsum, cumprod as cumprod, softmax as softmax, log_softmax as log_softmax, nansum as nansum,
    nanmean as nanmean,
)
from .shape import (
    reshape as reshape, view as view, view_as as view_as, reshape_as as reshape_as, flatten as flatten,
    unflatten as unflatten, squeeze as squeeze, unsqueeze as unsqueeze, permute as permute, transpose as transpose,
    swapaxes as swapaxes, swapdims as swapdims, t as t, movedim as movedim, moveaxis as moveaxis, expand as expand,
    expand_as as expand_as, broadcast_to as broadcast_to, broadcast_shapes as broadcast_shapes,
    broadcast_tensors as broadcast_tensors, repeat as repeat, tile as tile, cat as cat, concat as concat,
    concatenate as concatenate, stack as stack, hstack as hstack, vstack as vstack, row_stack as row_stack,
    dstack as dstack, column_stack as column_stack, split as split, chunk as chunk, unbind as unbind, narrow as narrow,
    flip as flip, fliplr as fliplr, flipud as flipud, roll as roll, diagonal as diagonal, diag_embed as diag_embed,
    diag as diag, trace as trace, tril as tril, triu as triu, tril_ as tril_, triu_ as triu_, meshgrid as meshgrid,
    atleast_1d as atleast_1d, atleast_2d as atleast_2d, atleast_3d as atleast_3d, select as select,
    repeat_interleave as repeat_interleave, rot90 as rot90,
)
from .index import (
    getitem as getitem, index_put as index_put, index_put_ as index_put_, gather as gather, scatter as scatter,
    scatter_add as scatter_add, index_select as index_select, index_add as index_add, index_fill as index_fill,
    index_copy as index_copy, masked_fill as masked_fill, masked_select as masked_select,
    masked_scatter as masked_scatter, take as take, take_along_dim as take_along_dim, nonzero as nonzero,
    argwhere as argwhere, scatter_ as scatter_, scatter_add_ as scatter_add_, index_add_ as index_add_,
    index_fill_ as index_fill_, index_copy_ as index_copy_, masked_fill_ as masked_fill_,
    masked_scatter_ as masked_scatter_, argsort as argsort, sort as sort, msort as msort, topk as topk,
    kthvalue as kthvalue, median as median, mode as mode, unique as unique, unique_consecutive as unique_consecutive,
    searchsorted as searchsorted, bucketize as bucketize, bincount as bincount, histc as histc, isin as isin,
)
from .linalg import (
    matmul as matmul, mm as mm, bmm as bmm, mv as mv, dot as dot, inner as inner, outer as outer, ger as ger,
    addmm as addmm, addmv as addmv, addr as addr, baddbmm as baddbmm, einsum as einsum, tensordot as tensordot,
    kron as kron, linear as linear, bilinear as bilinear, cdist as cdist, chain_matmul as chain_matmul, dist as dist,
    det as det, logdet as logdet, slogdet as slogdet, inverse as inverse, cholesky as cholesky, svd as svd, qr as qr,
    pinverse as pinverse, cross as cross,
)
from .inplace import (
    add_ as add_, sub_ as sub_, mul_ as mul_, div_ as div_, zero_ as zero_, fill_ as fill_, copy_ as copy_,
    setitem_ as setitem_, clamp_ as clamp_, clip_ as clip_, clamp_min_ as clamp_min_, clamp_max_ as clamp_max_,
    pow_ as pow_, round_ as round_, lerp_ as lerp_, addcmul_ as addcmul_, addcdiv_ as addcdiv_,
    remainder_ as remainder_, fmod_ as fmod_, floor_divide_ as floor_divide_, atan2_ as atan2_, hypot_ as hypot_,
    logical_not_ as logical_not_, bitwise_not_ as bitwise_not_, neg_ as neg_, abs_ as abs_, sqrt_ as sqrt_,
    rsqrt_ as rsqrt_, exp_ as exp_, expm1_ as expm1_, log_ as log_, log1p_ as log1p_, log2_ as log2_, log10_ as log10_,
    sigmoid_ as sigmoid_, tanh_ as tanh_, sin_ as sin_, cos_ as cos_, tan_ as tan_, floor_ as floor_, ceil_ as ceil_,
    trunc_ as trunc_, frac_ as frac_, sign_ as sign_, reciprocal_ as reciprocal_, square_ as square_, erf_ as erf_,
    erfinv_ as erfinv_, nan_to_num_ as nan_to_num_,
)
from .random_ops import (
    uniform_ as uniform_, normal_ as normal_, bernoulli_ as bernoulli_, exponential_ as exponential_,
    random_ as random_, geometric_ as geometric_, log_normal_ as log_normal_, cauchy_ as cauchy_,
)
from .activation import (
    relu_ as relu_, relu6 as relu6, rrelu as rrelu, rrelu_ as rrelu_, leaky_relu as leaky_relu,
    leaky_relu_ as leaky_relu_, elu as elu, elu_ as elu_, selu as selu, selu_ as selu_, celu as celu, celu_ as celu_,
    gelu as gelu, silu as silu, mish as mish, softplus as softplus, softsign as softsign, hardtanh as hardtanh,
    hardtanh_ as hardtanh_, hardsigmoid as hardsigmoid, hardswish as hardswish, logsigmoid as logsigmoid, glu as glu,
    prelu as prelu, threshold as threshold, threshold_ as threshold_, tanhshrink as tanhshrink,
    softshrink as softshrink, hardshrink as hardshrink, softmin as softmin, dropout as dropout,
    alpha_dropout as alpha_dropout, feature_alpha_dropout as feature_alpha_dropout, gumbel_softmax as gumbel_softmax,
    dropout1d as dropout1d, dropout2d as dropout2d, dropout3d as dropout3d,
    scaled_dot_product_attention as scaled_dot_product_attention,
)
from .conv import (
    conv1d as conv1d, conv2d as conv2d, conv_transpose1d as conv_transpose1d, conv_transpose2d as conv_transpose2d,
    unfold as unfold, fold as fold,
)
from .pool import (
    max_pool1d as max_pool1d, max_pool2d as max_pool2d, max_unpool1d as max_unpool1d, max_unpool2d as max_unpool2d,
    avg_pool1d as avg_pool1d, avg_pool2d as avg_pool2d, adaptive_avg_pool1d as adaptive_avg_pool1d,
    adaptive_avg_pool2d as adaptive_avg_pool2d, adaptive_max_pool1d as adaptive_max_pool1d,
    adaptive_max_pool2d as adaptive_max_pool2d, lp_pool1d as lp_pool1d, lp_pool2d as lp_pool2d, pad as pad,
    interpolate as interpolate, upsample as upsample, upsample_nearest as upsample_nearest,
    upsample_bilinear as upsample_bilinear, pixel_shuffle as pixel_shuffle, pixel_unshuffle as pixel_unshuffle,
)
from .normalization import (
    batch_norm as batch_norm, layer_norm as layer_norm, group_norm as group_norm, instance_norm as instance_norm,
    rms_norm as rms_norm, local_response_norm as local_response_norm, normalize as normalize,
    cosine_similarity as cosine_similarity, pairwise_distance as pairwise_distance, embedding as embedding,
    one_hot as one_hot,
)
from .loss import (
    mse_loss as mse_loss, l1_loss as l1_loss, smooth_l1_loss as smooth_l1_loss, huber_loss as huber_loss,
    cross_entropy as cross_entropy, nll_loss as nll_loss, binary_cross_entropy as binary_cross_entropy,
    binary_cross_entropy_with_logits as binary_cross_entropy_with_logits, kl_div as kl_div,
    poisson_nll_loss as poisson_nll_loss, gaussian_nll_loss as gaussian_nll_loss,
    cosine_embedding_loss as cosine_embedding_loss, margin_ranking_loss as margin_ranking_loss,
    multi_margin_loss as multi_margin_loss, hinge_embedding_loss as hinge_embedding_loss,
    soft_margin_loss as soft_margin_loss, multilabel_soft_margin_loss as multilabel_soft_margin_loss,
    triplet_margin_loss as triplet_margin_loss, triplet_margin_with_distance_loss as triplet_margin_with_distance_loss,
    multilabel_margin_loss as multilabel_margin_loss,
)
from .sparse import (
    segment_sum as segment_sum, sparse_coo_tensor as sparse_coo_tensor,
)
from .gamma import (
    lgamma as lgamma, digamma as digamma, polygamma as polygamma, igamma as igamma, igammac as igammac,
)
from .rnn import (
    recurrent_layer as recurrent_layer, composite_layer as composite_layer, rnn_tanh_cell as rnn_tanh_cell,
    rnn_relu_cell as rnn_relu_cell, lstm_cell as lstm_cell, gru_cell as gru_cell,
)

# the families in import order; a name two families export is the same object in both (activation re-exports relu)
_FAMILIES = (
    convert, elementwise, reduce, shape, index, linalg, inplace, random_ops, activation, conv, pool, normalization,
    loss, sparse, gamma, rnn,
)


def _tensor_method_names() -> list[str]:
    """Every family's ``TENSOR_METHODS``, in family order (what ``tensor.py`` attaches to ``Tensor``)."""
    return [name for family in _FAMILIES for name in family.TENSOR_METHODS]
