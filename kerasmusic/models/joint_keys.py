"""The keys of a frame modelled jointly: NADE and MADE output layers for the piano roll.

A sigmoid per key treats the keys of the next frame as independent given the past,
so it cannot say "C, E and G together, or none of them". Both layers here factor the
frame key by key instead, each key given the keys below it, with the context (the
recurrent state) setting their biases, as in the RNN-NADE of Boulanger-Lewandowski
et al. (2012):

- :class:`NadeKeys` (Larochelle & Murray 2011): a hidden vector per key,
  ``h_k = sigmoid(c + sum_{j<k} W_j x_j)``, ``p_k = sigmoid(b_k + V_k . h_k)``.
  Exact RNN-NADE; its training cost grows with keys x hidden units per frame.
- :class:`MadeKeys` (Germain et al. 2015): one masked hidden layer shared by every
  key (each hidden unit sees only the keys below its degree, each key only the hidden
  units of lower degree) plus direct connections from the keys below. Two matrix
  products per frame, so it trains almost as fast as the sigmoid output.

Training reads the true next frame (teacher forcing over keys), so a layer's outputs
are the conditional probabilities of the keys of that frame, and the binary
cross-entropy summed over keys is the frame's exact NLL. Generation draws the keys one
after another (:func:`kerasmusic.generation.pianoroll_rnn.sample_keys_jointly`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasmusic.models.layers import register


class _JointKeys(keras.layers.Layer):
    """[context (..., D), next frame (..., K)] -> P(key k sounds | keys below k, context)."""

    def __init__(self, n_keys: int, units: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.n_keys, self.units = int(n_keys), int(units)

    def _add(self, name, shape, initializer="glorot_uniform"):
        return self.add_weight(shape=shape, name=name, initializer=initializer)

    def _build_biases(self, context_dim: int) -> None:
        k, h = self.n_keys, self.units
        self.visible_kernel = self._add("visible_kernel", (context_dim, k))
        self.visible_bias = self._add("visible_bias", (k,), "zeros")
        self.hidden_kernel = self._add("hidden_kernel", (context_dim, h))
        self.hidden_bias = self._add("hidden_bias", (h,), "zeros")

    def biases(self, context):
        """(visible bias (..., K), hidden bias (..., H)) for a context (..., D)."""
        context = ops.cast(context, self.compute_dtype)
        return (ops.matmul(context, self.visible_kernel) + self.visible_bias,
                ops.matmul(context, self.hidden_kernel) + self.hidden_bias)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n_keys": self.n_keys, "units": self.units}


@register
class NadeKeys(_JointKeys):
    """NADE over the keys of a frame, biases from the context (RNN-NADE).

    Args:
        n_keys: keys per frame (K).
        units: NADE hidden units (H); the layer holds D x (K + H) bias weights and two
            K x H matrices (``input_weights`` W, ``output_weights`` V).
    """

    def build(self, input_shape):
        self._build_biases(int(input_shape[0][-1]))
        self.input_weights = self._add("input_weights", (self.n_keys, self.units))
        self.output_weights = self._add("output_weights", (self.n_keys, self.units))

    def call(self, inputs):
        context, frame = inputs
        visible, hidden = self.biases(context)
        contributions = ops.expand_dims(ops.cast(frame, self.compute_dtype), -1) * \
            self.input_weights  # (..., K, H)
        # The keys strictly below k: the running sum minus key k's own term.
        below = ops.cumsum(contributions, axis=-2) - contributions
        h = ops.sigmoid(ops.expand_dims(hidden, -2) + below)
        return ops.sigmoid(visible + ops.sum(h * self.output_weights, axis=-1))


def made_masks(n_keys: int, units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MADE's masks: keys -> hidden (K, H), hidden -> keys (H, K), keys -> keys (K, K).

    Hidden unit h has degree ``1 + h mod (K - 1)`` and sees the keys below it; key k
    sees the hidden units of degree <= k and, directly, the keys below k. So no key's
    probability depends on itself or on a key above it.
    """
    keys = np.arange(n_keys)
    degree = 1 + np.arange(units) % max(1, n_keys - 1)
    to_hidden = (keys[:, None] < degree[None, :]).astype(np.float32)
    to_keys = (degree[:, None] <= keys[None, :]).astype(np.float32)
    direct = (keys[:, None] < keys[None, :]).astype(np.float32)
    return to_hidden, to_keys, direct


@register
class MadeKeys(_JointKeys):
    """MADE over the keys of a frame (a masked hidden layer + direct connections).

    Args:
        n_keys: keys per frame (K).
        units: hidden units (H) shared by all keys through the masks (:func:`made_masks`).
    """

    def build(self, input_shape):
        k, h = self.n_keys, self.units
        self._build_biases(int(input_shape[0][-1]))
        self.input_weights = self._add("input_weights", (k, h))
        self.output_weights = self._add("output_weights", (h, k))
        self.direct_weights = self._add("direct_weights", (k, k), "zeros")

    def call(self, inputs):
        context, frame = inputs
        to_hidden, to_keys, direct = (ops.convert_to_tensor(m, self.compute_dtype)
                                      for m in made_masks(self.n_keys, self.units))
        frame = ops.cast(frame, self.compute_dtype)
        visible, hidden = self.biases(context)
        h = ops.sigmoid(hidden + ops.matmul(frame, self.input_weights * to_hidden))
        return ops.sigmoid(visible + ops.matmul(h, self.output_weights * to_keys)
                           + ops.matmul(frame, self.direct_weights * direct))


#: output name -> (layer class, default hidden units), for
#: :func:`~kerasmusic.build_pianoroll_rnn`.
JOINT_KEY_LAYERS = {"nade": (NadeKeys, 128), "made": (MadeKeys, 512)}
