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
