"""Convolutions whose patches do not overlap, computed as one matrix product.

MuseGAN's layers mostly stride by their kernel size: the bar generator's
``Conv2DTranspose`` layers ((2, 1) stride (2, 1), (1, 7) stride (1, 7), ...) and the
critic's pitch and time ``Conv3D`` layers ((1, 1, 12) stride (1, 1, 12), ...). Such a
layer is exactly a dense map of each patch: cut the input into its non-overlapping
patches (space-to-depth), multiply by the kernel flattened to a matrix, and for the
transposed layer spread each result back into its patch (depth-to-space). The
general convolution kernels (and, worse, their gradients and the gradient penalty's
second derivative) run several times slower than that one matrix product on a CPU
(measured: a (2, 1)/2 transposed layer at 3.7 GFLOP/s, the product at ~90).

:class:`PatchConv3D` and :class:`PatchConv2DTranspose` are the Keras layers with the
same arguments, weights (kernel shapes and layout) and outputs; they take the matrix
path whenever the patches of the input at hand do not overlap and fall back to the
parent's convolution otherwise.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasmusic.models.layers import register


def _patch_axes(layer, spatial: tuple) -> tuple[int, ...] | None:
    """Patch size per spatial axis if ``layer`` cuts ``spatial`` into disjoint patches.

    An axis qualifies when the stride equals the kernel and divides the input, or
    (``"valid"`` padding) when the kernel spans the whole axis (one output position).
    None: the layer needs its real convolution (overlaps, padding, dilation, groups,
    channels-first data or an unknown size).
    """
    if layer.data_format != "channels_last" or getattr(layer, "groups", 1) != 1:
        return None
    if any(d != 1 for d in layer.dilation_rate):
        return None
    patch = []
    for size, kernel, stride in zip(spatial, layer.kernel_size, layer.strides):
        if size is None:
            return None
        if stride == kernel and size % kernel == 0:
            patch.append(kernel)
        elif layer.padding == "valid" and kernel == size:
            patch.append(kernel)
        else:
            return None
    return tuple(patch)


def _interleave(n: int) -> list[int]:
    """Axis order (batch, o1, k1, o2, k2, ..., channels) of (batch, o1..on, k1..kn, c)."""
    return [0, *[a for i in range(n) for a in (1 + i, 1 + n + i)], 1 + 2 * n]


def _split(n: int) -> list[int]:
    """Axis order (batch, o1..on, k1..kn, c) of (batch, o1, k1, ..., on, kn, c)."""
    return [0, *range(1, 2 * n, 2), *range(2, 2 * n + 1, 2), 2 * n + 1]


def _finish(layer, outputs):
    if layer.use_bias:
        outputs = ops.add(outputs, layer.bias)
    return layer.activation(outputs) if layer.activation is not None else outputs


def _patch_conv(layer, inputs, fallback):
    """The convolution as one product over disjoint patches, or ``fallback(inputs)``."""
    spatial = tuple(inputs.shape[1:-1])
    patch = _patch_axes(layer, spatial)
    if patch is None:
        return fallback(inputs)
    n = len(spatial)
    outs = [size // k for size, k in zip(spatial, patch)]
    channels = inputs.shape[-1]
    # (batch, o1, k1, o2, k2, ..., c) -> (batch, o1, o2, ..., k1, k2, ..., c)
    x = ops.reshape(inputs, (-1, *[v for o, k in zip(outs, patch) for v in (o, k)], channels))
    x = ops.transpose(x, _split(n))
    x = ops.reshape(x, (-1, math.prod(patch) * channels))
    kernel = ops.reshape(layer.kernel, (math.prod(patch) * channels, layer.filters))
    y = ops.reshape(ops.matmul(x, kernel), (-1, *outs, layer.filters))
    return _finish(layer, y)


@register
class PatchConv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` as one matrix product when its patches do not overlap.

    Same arguments, weights and outputs as ``Conv2D``; see the module docstring.
    """

    def call(self, inputs):
        return _patch_conv(self, inputs, super().call)


@register
class PatchConv3D(keras.layers.Conv3D):
    """``keras.layers.Conv3D`` as one matrix product when its patches do not overlap.

    Same arguments, weights and outputs as ``Conv3D`` (tested equal); see the module
    docstring for when the fast path applies.
    """

    def call(self, inputs):
        return _patch_conv(self, inputs, super().call)


@register
class PatchConv2DTranspose(keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` as one matrix product when strides equal the kernel.

    Each input position then fills its own output patch: a product with the kernel
    flattened to (in channels, patch x filters), then depth-to-space. (An axis of
    size 1 with ``"valid"`` padding qualifies at any stride: its one patch is the
    output.) Same
    arguments, weights and outputs as ``Conv2DTranspose`` (tested equal).
    """

    def call(self, inputs):
        spatial = tuple(inputs.shape[1:-1])
        if (self.data_format != "channels_last" or self.output_padding is not None
                or any(d != 1 for d in self.dilation_rate) or None in spatial
                or not all(stride == kernel or (size == 1 and self.padding == "valid")
                           for size, kernel, stride in
                           zip(spatial, self.kernel_size, self.strides))):
            return super().call(inputs)
        n = len(spatial)
        patch = tuple(self.kernel_size)
        channels = inputs.shape[-1]
        # kernel (k1, k2, filters, in) -> (in, k1, k2, filters)
        kernel = ops.reshape(ops.transpose(self.kernel, (n + 1, *range(n), n)),
                             (channels, math.prod(patch) * self.filters))
        y = ops.matmul(ops.reshape(inputs, (-1, channels)), kernel)
        # (batch, d1, d2, k1, k2, f) -> (batch, d1, k1, d2, k2, f) -> (batch, d1 k1, d2 k2, f)
        y = ops.transpose(ops.reshape(y, (-1, *spatial, *patch, self.filters)), _interleave(n))
        y = ops.reshape(y, (-1, *[d * k for d, k in zip(spatial, patch)], self.filters))
        return _finish(self, y)
