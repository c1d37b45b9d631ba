"""Keras callbacks used by the library's training entry points."""

from __future__ import annotations

import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stop training once ``seconds`` of wall time have passed (checked after each batch).

    The epoch in progress is cut short; Keras still runs its validation, so the
    history ends with that (partial) epoch's losses.
    """

    def __init__(self, seconds: float | None):
        super().__init__()
        self.seconds = seconds
        self._start = 0.0
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is not None and time.monotonic() - self._start > self.seconds:
            self.model.stop_training = True
            self.stopped_early = True
