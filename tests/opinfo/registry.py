from tinytorch.ops.registry import *  # noqa: F403 - transition shim, replaced by the moved registry
from tinytorch.ops.registry import _REGISTRY  # noqa: F401
