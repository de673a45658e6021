"""All layer classes of ``tinytorch.nn`` (``torch.nn.modules``)."""
from __future__ import annotations

from .module import Module, RemovableHandle  # noqa: F401
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .linear import NonDynamicallyQuantizableLinear  # noqa: F401
from .flatten import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from . import container, linear, flatten, conv, pooling, normalization, activation, dropout, sparse, loss  # noqa: F401
from . import rnn, transformer, upsampling, padding, module  # noqa: F401

__all__ = ["Module", "RemovableHandle", "NonDynamicallyQuantizableLinear"]
for _m in (container, linear, flatten, conv, pooling, normalization, activation, dropout, sparse, loss, rnn,
           transformer, upsampling, padding):
    __all__ += list(_m.__all__)
del _m
