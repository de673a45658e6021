"""``tinytorch.nn.functional`` (``import tinytorch.nn.functional as F``).

The functions live in ``tinytorch.ops`` (one family per module, each op with its backward); this module is their
PyTorch-named façade: every public function of the activation, conv, pool, normalization and loss families, plus
the few torch puts in ``F`` from other families. tests/ops/test_exports.py holds this list equal to those families'
``__all__`` and to names ``torch.nn.functional`` has.
"""
from ..ops.activation import (
    relu as relu, relu_ as relu_, sigmoid as sigmoid, tanh as tanh, relu6 as relu6, rrelu as rrelu, rrelu_ as rrelu_,
    leaky_relu as leaky_relu, leaky_relu_ as leaky_relu_, elu as elu, elu_ as elu_, selu as selu, selu_ as selu_,
    celu as celu, celu_ as celu_, gelu as gelu, silu as silu, mish as mish, softplus as softplus, softsign as softsign,
    hardtanh as hardtanh, hardtanh_ as hardtanh_, hardsigmoid as hardsigmoid, hardswish as hardswish,
    logsigmoid as logsigmoid, glu as glu, prelu as prelu, threshold as threshold, threshold_ as threshold_,
    tanhshrink as tanhshrink, softshrink as softshrink, hardshrink as hardshrink, softmin as softmin,
    dropout as dropout, alpha_dropout as alpha_dropout, feature_alpha_dropout as feature_alpha_dropout,
    gumbel_softmax as gumbel_softmax, dropout1d as dropout1d, dropout2d as dropout2d, dropout3d as dropout3d,
    scaled_dot_product_attention as scaled_dot_product_attention,
)
from ..ops.conv import (
    conv1d as conv1d, conv2d as conv2d, conv_transpose1d as conv_transpose1d, conv_transpose2d as conv_transpose2d,
    unfold as unfold, fold as fold,
)
from ..ops.pool import (
    max_pool1d as max_pool1d, max_pool2d as max_pool2d, max_unpool1d as max_unpool1d, max_unpool2d as max_unpool2d,
    avg_pool1d as avg_pool1d, avg_pool2d as avg_pool2d, adaptive_avg_pool1d as adaptive_avg_pool1d,
    adaptive_avg_pool2d as adaptive_avg_pool2d, adaptive_max_pool1d as adaptive_max_pool1d,
    adaptive_max_pool2d as adaptive_max_pool2d, lp_pool1d as lp_pool1d, lp_pool2d as lp_pool2d, pad as pad,
    interpolate as interpolate, upsample as upsample, upsample_nearest as upsample_nearest,
    upsample_bilinear as upsample_bilinear, pixel_shuffle as pixel_shuffle, pixel_unshuffle as pixel_unshuffle,
)
from ..ops.normalization import (
    batch_norm as batch_norm, layer_norm as layer_norm, group_norm as group_norm, instance_norm as instance_norm,
    rms_norm as rms_norm, local_response_norm as local_response_norm, normalize as normalize,
    cosine_similarity as cosine_similarity, pairwise_distance as pairwise_distance, embedding as embedding,
    one_hot as one_hot,
)
from ..ops.loss import (
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
# from the other families: what torch.nn.functional also has (F.embedding_bag returns one tensor, unlike
# torch.embedding_bag, so it stays out of the top level)
from ..ops.reduce import softmax as softmax, log_softmax as log_softmax
from ..ops.linalg import linear as linear, bilinear as bilinear
from ..ops.normalization import embedding_bag as embedding_bag
