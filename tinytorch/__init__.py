"""tinytorch: a small, hackable, PyTorch-compatible autodiff framework on NumPy (CPU) and CuPy (CUDA).

``import tinytorch as torch`` runs the covered subset of PyTorch scripts unchanged.
"""
__version__ = "0.1.0"

from . import _dtype as _dtypes
from ._dtype import (  # noqa: F401
    dtype, float32, float64, float16, bfloat16, int8, uint8, int16, int32, int64, float, double, half,
    long, short, get_default_dtype, set_default_dtype, promote_types, result_type as _result_type,
)
from ._dtype import bool_ as bool  # noqa: A001
from ._dtype import int as int  # noqa: A001,F401
from ._arrays import device  # noqa: F401
from .tensor import Tensor, Size  # noqa: F401
from . import autograd  # noqa: F401
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled  # noqa: F401
from .random import manual_seed, seed, initial_seed, get_rng_state, set_rng_state, Generator, default_generator  # noqa: F401
from .creation import *  # noqa: F401,F403
from .ops import (  # torch's top-level ops; the rest of tinytorch.ops is Tensor methods and nn.functional
    clone as clone, isclose as isclose, allclose as allclose, equal as equal, relu as relu, clamp_min as clamp_min,
    clamp_max as clamp_max, isnan as isnan, isinf as isinf, isfinite as isfinite, true_divide as true_divide,
    absolute as absolute, arctan2 as arctan2, sum as sum, prod as prod, argmax as argmax, argmin as argmin,
    count_nonzero as count_nonzero, softmax as softmax, log_softmax as log_softmax, nansum as nansum,
    reshape as reshape, flatten as flatten, unflatten as unflatten, squeeze as squeeze, unsqueeze as unsqueeze,
    permute as permute, transpose as transpose, swapaxes as swapaxes, swapdims as swapdims, t as t, movedim as movedim,
    moveaxis as moveaxis, broadcast_to as broadcast_to, broadcast_shapes as broadcast_shapes,
    broadcast_tensors as broadcast_tensors, tile as tile, split as split, chunk as chunk, unbind as unbind,
    narrow as narrow, flip as flip, fliplr as fliplr, flipud as flipud, roll as roll, diagonal as diagonal,
    diag_embed as diag_embed, trace as trace, meshgrid as meshgrid, atleast_1d as atleast_1d, atleast_2d as atleast_2d,
    atleast_3d as atleast_3d, select as select, repeat_interleave as repeat_interleave, rot90 as rot90,
    index_put as index_put, index_put_ as index_put_, scatter as scatter, scatter_add as scatter_add,
    index_add as index_add, index_fill as index_fill, index_copy as index_copy, masked_fill as masked_fill,
    masked_scatter as masked_scatter, take as take, argwhere as argwhere, argsort as argsort, unique as unique,
    unique_consecutive as unique_consecutive, bincount as bincount, isin as isin, einsum as einsum,
    tensordot as tensordot, bilinear as bilinear, cdist as cdist, dist as dist, det as det, logdet as logdet,
    slogdet as slogdet, qr as qr, pinverse as pinverse, zero_ as zero_, fill_ as fill_, clamp_ as clamp_,
    clip_ as clip_, clamp_min_ as clamp_min_, clamp_max_ as clamp_max_, round_ as round_, neg_ as neg_, abs_ as abs_,
    sqrt_ as sqrt_, rsqrt_ as rsqrt_, exp_ as exp_, expm1_ as expm1_, log_ as log_, log1p_ as log1p_, log2_ as log2_,
    log10_ as log10_, sigmoid_ as sigmoid_, tanh_ as tanh_, sin_ as sin_, cos_ as cos_, tan_ as tan_, floor_ as floor_,
    ceil_ as ceil_, trunc_ as trunc_, frac_ as frac_, reciprocal_ as reciprocal_, square_ as square_, erf_ as erf_,
    nan_to_num_ as nan_to_num_, relu_ as relu_, rrelu as rrelu, rrelu_ as rrelu_, selu as selu, selu_ as selu_,
    celu as celu, celu_ as celu_, prelu as prelu, threshold as threshold, threshold_ as threshold_,
    hardshrink as hardshrink, dropout as dropout, alpha_dropout as alpha_dropout,
    feature_alpha_dropout as feature_alpha_dropout, conv1d as conv1d, conv2d as conv2d,
    conv_transpose1d as conv_transpose1d, conv_transpose2d as conv_transpose2d, max_pool1d as max_pool1d,
    max_pool2d as max_pool2d, avg_pool1d as avg_pool1d, adaptive_avg_pool1d as adaptive_avg_pool1d,
    adaptive_max_pool1d as adaptive_max_pool1d, pixel_shuffle as pixel_shuffle, pixel_unshuffle as pixel_unshuffle,
    batch_norm as batch_norm, layer_norm as layer_norm, group_norm as group_norm, instance_norm as instance_norm,
    rms_norm as rms_norm, cosine_similarity as cosine_similarity, pairwise_distance as pairwise_distance,
    embedding as embedding, binary_cross_entropy_with_logits as binary_cross_entropy_with_logits, kl_div as kl_div,
    poisson_nll_loss as poisson_nll_loss, cosine_embedding_loss as cosine_embedding_loss,
    margin_ranking_loss as margin_ranking_loss, hinge_embedding_loss as hinge_embedding_loss,
    triplet_margin_loss as triplet_margin_loss, segment_sum as segment_sum, sparse_coo_tensor as sparse_coo_tensor,
    rnn_tanh_cell as rnn_tanh_cell, rnn_relu_cell as rnn_relu_cell, lstm_cell as lstm_cell, gru_cell as gru_cell,
)
from . import ops as _ops
from . import cuda  # noqa: F401
from . import backends  # noqa: F401
from . import linalg  # noqa: F401
from .ops import sparse as sparse  # torch.sparse: sparse.mm (tinytorch.mm is the dense product)
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import utils  # noqa: F401
from . import train, viz  # noqa: F401 - opt-in conveniences; their optional packages load on use
from . import distributions, special  # noqa: F401
from .serialization import save, load  # noqa: F401
from . import jit, testing, _dynamo, onnx  # noqa: F401 - torch.jit/testing/_dynamo/onnx (onnx loads its package on use)
from ._compat import *  # noqa: F401,F403

from ._out import accepts_out as _accepts_out

# torch's functions that take out=: one wrapper per function, shared by its aliases (cat is concat)
add = _accepts_out(_ops.add)
sub = _accepts_out(_ops.sub)
mul = _accepts_out(_ops.mul)
div = _accepts_out(_ops.div)
floor_divide = _accepts_out(_ops.floor_divide)
remainder = _accepts_out(_ops.remainder)
fmod = _accepts_out(_ops.fmod)
pow = _accepts_out(_ops.pow)
neg = _accepts_out(_ops.neg)
abs = _accepts_out(_ops.abs)
reciprocal = _accepts_out(_ops.reciprocal)
eq = _accepts_out(_ops.eq)
ne = not_equal = _accepts_out(_ops.ne)
lt = less = _accepts_out(_ops.lt)
le = less_equal = _accepts_out(_ops.le)
gt = greater = _accepts_out(_ops.gt)
ge = greater_equal = _accepts_out(_ops.ge)
bitwise_and = _accepts_out(_ops.bitwise_and)
bitwise_or = _accepts_out(_ops.bitwise_or)
bitwise_xor = _accepts_out(_ops.bitwise_xor)
bitwise_not = _accepts_out(_ops.bitwise_not)
logical_and = _accepts_out(_ops.logical_and)
logical_or = _accepts_out(_ops.logical_or)
logical_xor = _accepts_out(_ops.logical_xor)
logical_not = _accepts_out(_ops.logical_not)
exp = _accepts_out(_ops.exp)
exp2 = _accepts_out(_ops.exp2)
expm1 = _accepts_out(_ops.expm1)
log = _accepts_out(_ops.log)
log1p = _accepts_out(_ops.log1p)
log2 = _accepts_out(_ops.log2)
log10 = _accepts_out(_ops.log10)
sqrt = _accepts_out(_ops.sqrt)
rsqrt = _accepts_out(_ops.rsqrt)
square = _accepts_out(_ops.square)
sin = _accepts_out(_ops.sin)
cos = _accepts_out(_ops.cos)
tan = _accepts_out(_ops.tan)
asin = _accepts_out(_ops.asin)
acos = _accepts_out(_ops.acos)
atan = _accepts_out(_ops.atan)
atan2 = _accepts_out(_ops.atan2)
sinh = _accepts_out(_ops.sinh)
cosh = _accepts_out(_ops.cosh)
tanh = _accepts_out(_ops.tanh)
sigmoid = _accepts_out(_ops.sigmoid)
erf = _accepts_out(_ops.erf)
erfc = _accepts_out(_ops.erfc)
erfinv = _accepts_out(_ops.erfinv)
sign = _accepts_out(_ops.sign)
floor = _accepts_out(_ops.floor)
ceil = _accepts_out(_ops.ceil)
round = _accepts_out(_ops.round)
trunc = _accepts_out(_ops.trunc)
frac = _accepts_out(_ops.frac)
clamp = _accepts_out(_ops.clamp)
clip = _accepts_out(_ops.clip)
maximum = _accepts_out(_ops.maximum)
minimum = _accepts_out(_ops.minimum)
fmax = _accepts_out(_ops.fmax)
fmin = _accepts_out(_ops.fmin)
where = _accepts_out(_ops.where)
isposinf = _accepts_out(_ops.isposinf)
isneginf = _accepts_out(_ops.isneginf)
nan_to_num = _accepts_out(_ops.nan_to_num)
lerp = _accepts_out(_ops.lerp)
addcmul = _accepts_out(_ops.addcmul)
addcdiv = _accepts_out(_ops.addcdiv)
hypot = _accepts_out(_ops.hypot)
logaddexp = _accepts_out(_ops.logaddexp)
copysign = _accepts_out(_ops.copysign)
subtract = _accepts_out(_ops.subtract)
multiply = _accepts_out(_ops.multiply)
divide = _accepts_out(_ops.divide)
negative = _accepts_out(_ops.negative)
fix = _accepts_out(_ops.fix)
mean = _accepts_out(_ops.mean)
max = _accepts_out(_ops.max)
min = _accepts_out(_ops.min)
amax = _accepts_out(_ops.amax)
amin = _accepts_out(_ops.amin)
aminmax = _accepts_out(_ops.aminmax)
var = _accepts_out(_ops.var)
std = _accepts_out(_ops.std)
var_mean = _accepts_out(_ops.var_mean)
std_mean = _accepts_out(_ops.std_mean)
norm = _accepts_out(_ops.norm)
logsumexp = _accepts_out(_ops.logsumexp)
all = _accepts_out(_ops.all)
any = _accepts_out(_ops.any)
cumsum = _accepts_out(_ops.cumsum)
cumprod = _accepts_out(_ops.cumprod)
nanmean = _accepts_out(_ops.nanmean)
cat = concat = concatenate = _accepts_out(_ops.cat)
stack = _accepts_out(_ops.stack)
hstack = _accepts_out(_ops.hstack)
vstack = row_stack = _accepts_out(_ops.vstack)
dstack = _accepts_out(_ops.dstack)
column_stack = _accepts_out(_ops.column_stack)
diag = _accepts_out(_ops.diag)
tril = _accepts_out(_ops.tril)
triu = _accepts_out(_ops.triu)
gather = _accepts_out(_ops.gather)
index_select = _accepts_out(_ops.index_select)
masked_select = _accepts_out(_ops.masked_select)
take_along_dim = _accepts_out(_ops.take_along_dim)
nonzero = _accepts_out(_ops.nonzero)
sort = _accepts_out(_ops.sort)
msort = _accepts_out(_ops.msort)
topk = _accepts_out(_ops.topk)
kthvalue = _accepts_out(_ops.kthvalue)
median = _accepts_out(_ops.median)
mode = _accepts_out(_ops.mode)
searchsorted = _accepts_out(_ops.searchsorted)
bucketize = _accepts_out(_ops.bucketize)
histc = _accepts_out(_ops.histc)
matmul = _accepts_out(_ops.matmul)
mm = _accepts_out(_ops.mm)
bmm = _accepts_out(_ops.bmm)
mv = _accepts_out(_ops.mv)
dot = _accepts_out(_ops.dot)
inner = _accepts_out(_ops.inner)
outer = ger = _accepts_out(_ops.outer)
addmm = _accepts_out(_ops.addmm)
addmv = _accepts_out(_ops.addmv)
addr = _accepts_out(_ops.addr)
baddbmm = _accepts_out(_ops.baddbmm)
kron = _accepts_out(_ops.kron)
chain_matmul = _accepts_out(_ops.chain_matmul)
inverse = _accepts_out(_ops.inverse)
cholesky = _accepts_out(_ops.cholesky)
svd = _accepts_out(_ops.svd)
cross = _accepts_out(_ops.cross)
lgamma = _accepts_out(_ops.lgamma)
digamma = _accepts_out(_ops.digamma)
polygamma = _accepts_out(_ops.polygamma)
igamma = _accepts_out(_ops.igamma)
igammac = _accepts_out(_ops.igammac)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def numel(t) -> int:
    return t.numel()


def result_type(a, b):
    return _result_type(a, b)


def can_cast(from_, to) -> bool:
    return from_._kind <= to._kind
