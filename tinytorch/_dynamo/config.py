"""``torch._dynamo.config``: settings scripts assign (``suppress_errors = True``, ``cache_size_limit = 64``).

Any attribute may be set; the common ones start at torch's defaults. Nothing reads them: tinytorch has no
graph capture.
"""
from __future__ import annotations

suppress_errors = False
cache_size_limit = 8
accumulated_cache_size_limit = 256
verbose = False
automatic_dynamic_shapes = True
assume_static_by_default = True
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
optimize_ddp = True
specialize_int = False
inline_inbuilt_nn_modules = True
recompile_limit = 8
