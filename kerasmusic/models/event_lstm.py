"""The event LSTM (seed 003): [note, velocity, time] one-hots -> one LSTM -> three heads.

Each event's three classes are one-hot encoded and concatenated (88 + 128 + 12 = 228
values with the default encoding), one LSTM reads the window, one Dense layer maps
its last output to 228 values, which are split into three softmax heads: ``note``,
``velocity`` and ``time``. The loss is the sum of the three cross-entropies plus an
L1 penalty on the weights (``kernel_regularizer``), which the seed found to curb
overfitting. Both custom layers are registered, so saved models load with
``safe_mode=True``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from kerasmusic.data.events import HEADS, N_VELOCITIES
from kerasmusic.data.frames import PIANO_KEYS
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.layers import register
from kerasmusic.validation import check_learning_rate


@register
class MultiOneHot(keras.layers.Layer):
    """int ids (..., k) -> concatenated one-hots (..., sum(sizes)), column i over sizes[i]."""

    def __init__(self, sizes: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.sizes = [int(s) for s in sizes]

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        parts = [ops.one_hot(ids[..., i], size, dtype=self.compute_dtype)
                 for i, size in enumerate(self.sizes)]
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], sum(self.sizes))

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes}


@register
class SplitLast(keras.layers.Layer):
    """(..., sum(sizes)) -> a list of tensors (..., sizes[i]), in order."""

    def __init__(self, sizes: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.sizes = [int(s) for s in sizes]

    def call(self, x):
        out, start = [], 0
        for size in self.sizes:
            out.append(x[..., start:start + size])
            start += size
        return out

    def compute_output_shape(self, input_shape):
        return [(*input_shape[:-1], size) for size in self.sizes]

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes}


def build_event_lstm(
    n_pitches: int = PIANO_KEYS,
    n_velocities: int = N_VELOCITIES,
    n_times: int = 12,
    units: int = 256,
    dropout: float = 0.5,
    l1: float = 1e-5,
    *,
    learning_rate: float = 0.001,
) -> keras.Model:
    """Build and compile the event LSTM.

    ``Input(None, 3)`` int ids -> :class:`MultiOneHot` -> ``LSTM(units)`` ->
    ``Dropout(dropout)`` -> ``Dense(n_pitches + n_velocities + n_times)`` ->
    :class:`SplitLast` -> softmax heads ``note``, ``velocity``, ``time``. The LSTM's
    kernels and the Dense kernel carry ``keras.regularizers.L1(l1)``; the loss is the
    sum of three ``SparseCategoricalCrossentropy`` plus that penalty, optimised with
    ``Adam(learning_rate)``. Accuracy is reported per head.

    Args:
        n_pitches: note classes (88 piano keys).
        n_velocities: velocity classes (128; 0 = note-off).
        n_times: time classes (12).
        units: LSTM units.
        dropout: dropout rate after the LSTM (0.5 in the seed).
        l1: L1 weight penalty (0: none).
        learning_rate: Adam learning rate.

    Returns:
        A compiled functional model: events (batch, time, 3) int -> three probability
        vectors (batch, n_pitches), (batch, n_velocities), (batch, n_times) for the
        next event.
    """
    sizes = [n_pitches, n_velocities, n_times]
    for name, value in (("n_pitches", n_pitches), ("n_velocities", n_velocities),
                        ("n_times", n_times), ("units", units)):
        if int(value) < 1:
            raise KerasMusicError(f"build_event_lstm: {name} must be a positive integer, "
                                  f"got {value}")
    if not 0 <= dropout < 1 or l1 < 0:
        raise KerasMusicError(f"build_event_lstm: dropout must be in [0, 1) and l1 >= 0, got "
                              f"{dropout} and {l1}")
    check_learning_rate("learning_rate", learning_rate)

    def penalty():
        return keras.regularizers.L1(l1) if l1 else None

    events = keras.Input(shape=(None, 3), dtype="int32", name="events")
    x = MultiOneHot(sizes, name="one_hot")(events)
    x = keras.layers.LSTM(units, kernel_regularizer=penalty(),
                          recurrent_regularizer=penalty(), name="lstm")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    # float32 heads under a mixed_float16 policy (a no-op otherwise).
    x = keras.layers.Dense(sum(sizes), kernel_regularizer=penalty(), name="dense",
                           dtype="float32")(x)
    parts = SplitLast(sizes, name="split", dtype="float32")(x)
    outputs = [keras.layers.Softmax(name=head, dtype="float32")(part)
               for head, part in zip(HEADS, parts)]
    model = keras.Model(events, outputs, name="event_lstm")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss={head: keras.losses.SparseCategoricalCrossentropy() for head in HEADS},
        metrics={head: [keras.metrics.SparseCategoricalAccuracy(name="acc")] for head in HEADS},
    )
    return model
