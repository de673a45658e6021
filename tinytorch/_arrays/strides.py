"""Strided views for sliding windows, on NumPy and CuPy alike.

``as_strided`` is the one place that picks ``numpy.lib.stride_tricks`` or
``cupy.lib.stride_tricks``; the window helpers above it are backend-neutral and are what
the convolution and pooling ops use for im2col-style views (no copy until a reshape asks
for one) and for col2im-style accumulation (one strided add per kernel offset).
"""
from __future__ import annotations

import numpy as np


def as_strided(xp, array, shape, strides, writeable=False):
    """A view of ``array`` with the given shape and byte strides (read-only on NumPy unless ``writeable``).

    CuPy views have no writeable flag: callers that need read-only views must not write.
    """
    if xp is np:
        return np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def sliding_windows(xp, x, kernel, stride, dilation, out_size):
    """Windows over the last ``len(kernel)`` dims of ``x`` as a view (no copy).

    For 2 spatial dims and ``x`` of shape (*B, H, W) the view is (*B, OH, OW, KH, KW), element
    ``[..., i, j, a, b]`` being ``x[..., i*sh + a*dh, j*sw + b*dw]``. The caller pads first and
    guarantees every window fits.
    """
    k = len(kernel)
    lead = x.ndim - k
    sp = x.strides[lead:]
    shape = tuple(x.shape[:lead]) + tuple(out_size) + tuple(kernel)
    strides = (tuple(x.strides[:lead]) + tuple(s * st for s, st in zip(sp, stride))
               + tuple(s * d for s, d in zip(sp, dilation)))
    return as_strided(xp, x, shape, strides)


def window_slices(offsets, stride, dilation, out_size):
    """The strided slices of a padded input that kernel offset ``offsets`` touches, one per dim."""
    return tuple(
        slice(o * d, o * d + s * (n - 1) + 1, s) for o, s, d, n in zip(offsets, stride, dilation, out_size)
    )


def kernel_offsets(kernel):
    """All kernel offsets (a, b, ...) in row-major order."""
    return list(np.ndindex(*kernel))
