"""``torch.onnx``: export a model to ONNX by tracing one forward call (needs the ``onnx`` package).

``export(model, args, f, input_names=..., output_names=..., dynamic_axes=..., opset_version=...)`` records
the ops the forward runs, maps each to ONNX nodes and writes the model; parameters and buffers become
initializers named as in ``state_dict``. Covered: Linear, Conv1d/2d, ConvTranspose2d, the common
activations, BatchNorm/LayerNorm/GroupNorm (eval), max/avg/adaptive pooling, Embedding, Dropout (eval),
MultiheadAttention and scaled_dot_product_attention, and the shape, indexing, reduction and elementwise
ops. An op with no mapping raises ``errors.UnsupportedOperatorError`` naming it.
"""
from __future__ import annotations

from . import errors
from ._export import OperatorExportTypes, TrainingMode, export, is_in_onnx_export
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "is_in_onnx_export", "errors", "TrainingMode", "OperatorExportTypes", "OnnxExporterError",
           "UnsupportedOperatorError"]
