"""Small registered layers shared by the library's models.

Every layer here is registered with Keras under the ``kerasmusic`` package, so a
saved model loads back with ``safe_mode=True`` (no ``Lambda`` layers anywhere).
"""

from __future__ import annotations

import keras
from keras import ops


def register(cls):
    """Register ``cls`` for Keras serialization under the ``kerasmusic`` package."""
    return keras.saving.register_keras_serializable(package="kerasmusic")(cls)


@register
class TemporalSoftmax(keras.layers.Layer):
    """Attention weights: scores of shape (batch, time, 1) -> softmax over time (batch, time)."""

    def call(self, scores):
        return ops.softmax(ops.squeeze(scores, axis=-1), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])


@register
class WeightedSum(keras.layers.Layer):
    """Context vector: [values (batch, time, units), weights (batch, time)] -> (batch, units)."""

    def call(self, inputs):
        values, weights = inputs
        return ops.sum(values * ops.expand_dims(weights, -1), axis=1)

    def compute_output_shape(self, input_shape):
        values_shape, _ = input_shape
        return (values_shape[0], values_shape[-1])


@register
class CausalAttentionPooling(keras.layers.Layer):
    """The attention context at every step: [values (B, T, U), scores (B, T, 1)] -> (B, T, U).

    Step ``t`` gets ``sum_{i<=t} exp(s_i) v_i / sum_{i<=t} exp(s_i)``: exactly what
    :class:`TemporalSoftmax` + :class:`WeightedSum` give for the window ending at ``t``,
    so a model trained on every step's prediction has the weights of the windowed one.
    Scores are shifted by the sequence's largest before ``exp`` (no overflow); the
    attention LSTM's scores come from ``Dense(1, tanh)`` and lie in [-1, 1], so no
    early step's weight can underflow either.
    """

    def call(self, inputs):
        values, scores = inputs
        scores = scores - ops.max(scores, axis=1, keepdims=True)
        weights = ops.exp(scores)
        return ops.cumsum(values * weights, axis=1) / ops.cumsum(weights, axis=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
