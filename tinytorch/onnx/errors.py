"""Exceptions of ``tinytorch.onnx`` (``torch.onnx.errors``)."""
from __future__ import annotations

__all__ = ["OnnxExporterError", "OnnxExporterWarning", "UnsupportedOperatorError", "SymbolicValueError"]


class OnnxExporterWarning(UserWarning):
    """Something in the export may not behave as the eager model does (e.g. a value baked in as a constant)."""


class OnnxExporterError(RuntimeError):
    """The model could not be exported."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op the forward ran has no ONNX mapping; ``op_name`` names it."""

    def __init__(self, op_name: str, version: int, detail: str = ""):
        self.op_name, self.version = op_name, version
        msg = f"Exporting the operator '{op_name}' to ONNX opset version {version} is not supported"
        super().__init__(msg + (f": {detail}" if detail else ""))


class SymbolicValueError(OnnxExporterError):
    """An op's arguments cannot be expressed in the graph (e.g. a size that depends on a dynamic axis)."""
