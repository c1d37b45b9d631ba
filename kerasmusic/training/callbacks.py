"""Keras callbacks used by the library's training entry points."""

from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.errors import NonFiniteLossError
from kerasmusic.training.distributed import check_finite, non_finite_error
from kerasmusic.validation import check_count, check_positive


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


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop ``fit`` at the batch whose loss is NaN or infinite, with a clear error.

    Keras' own ``TerminateOnNaN`` stops quietly after the epoch's bookkeeping; this
    raises :class:`~kerasmusic.errors.NonFiniteLossError` naming the epoch, the batch
    and (when given) where the last good weights are, so nothing is saved after it.
    Weights that are NaN / Inf before the first batch are refused the same way, and
    :meth:`explain` turns a step that crashed on non-finite weights (RMSprop's sparse
    embedding update does: ``indices[0] = 221 is not in [0, 65)``) into that error.

    Args:
        last_good: a description of the last good checkpoint (e.g. its path), or None.
    """

    def __init__(self, last_good: str | None = None):
        super().__init__()
        self.last_good = last_good
        self._epoch = 0
        self._batches_done = 0

    def on_train_begin(self, logs=None):
        bad = non_finite_variables(self.model)
        if bad:
            raise non_finite_error(f"NaN / Inf in {_names(bad)} before training",
                                   last_good=self.last_good)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches_done = batch + 1
        losses = {k: float(v) for k, v in (logs or {}).items() if k.endswith("loss")}
        check_finite(losses, f"batch {batch + 1} of epoch {self._epoch + 1}",
                     last_good=self.last_good)

    def explain(self, error: Exception) -> NonFiniteLossError | None:
        """The :class:`~kerasmusic.errors.NonFiniteLossError` behind ``error`` (raised by
        a training step), or None when every weight and optimizer slot is finite."""
        bad = non_finite_variables(self.model)
        if not bad:
            return None
        where = f"batch {self._batches_done + 1} of epoch {self._epoch + 1}"
        return non_finite_error(f"NaN / Inf in {_names(bad)} at {where} (the step failed: "
                                f"{type(error).__name__})", last_good=self.last_good)


class Warmup(keras.callbacks.Callback):
    """Raise the learning rate linearly to ``peak`` over the first ``steps`` batches,
    then optionally let it fall along a cosine to 0 by the end of the run.

    Batch ``n`` (counted by the optimizer, so a resumed run carries on) trains at
    ``peak * (n + 1) / steps`` during the warm-up. Without decay the rate is then left
    alone (a :class:`keras.callbacks.ReduceLROnPlateau` can lower it). With decay it is
    ``peak * (1 + cos(pi * p)) / 2``, where the progress ``p`` is the larger of the
    share of ``decay_steps`` batches done and the share of ``decay_seconds`` of training
    time spent: a run with a time budget ends at a small rate whichever limit comes
    first. The rate stays a plain optimizer variable, so a saved model needs no custom
    schedule class.

    Args:
        steps: batches of warm-up (0: none).
        peak: the learning rate reached at the end of the warm-up.
        decay_steps: batches of the whole run (warm-up included) for the cosine decay.
        decay_seconds: seconds of training of the whole run for the cosine decay.
    """

    def __init__(self, steps: int, peak: float, *, decay_steps: int | None = None,
                 decay_seconds: float | None = None):
        super().__init__()
        self.steps = int(check_count("warmup_steps", steps, minimum=0))
        self.peak = float(peak)
        self.decay_steps = check_count("decay_steps", decay_steps, optional=True)
        self.decay_seconds = check_positive("decay_seconds", decay_seconds, optional=True)
        self._step = 0
        self._start = 0.0

    def on_train_begin(self, logs=None):
        self._step = int(self.model.optimizer.iterations.numpy())
        self._start = time.monotonic()

    def _progress(self) -> float | None:
        shares = []
        if self.decay_steps is not None:
            shares.append(self._step / self.decay_steps)
        if self.decay_seconds is not None:
            shares.append((time.monotonic() - self._start) / self.decay_seconds)
        return min(1.0, max(shares)) if shares else None

    def on_train_batch_begin(self, batch, logs=None):
        if self._step < self.steps:
            self.model.optimizer.learning_rate = self.peak * (self._step + 1) / self.steps
        elif (progress := self._progress()) is not None:
            self.model.optimizer.learning_rate = self.peak * (1 + math.cos(math.pi * progress)) / 2
        self._step += 1


def non_finite_variables(model: keras.Model) -> list[str]:
    """The paths of ``model``'s weights and optimizer variables that hold NaN or Inf."""
    optimizer = getattr(model, "optimizer", None)
    variables = [*model.weights, *(optimizer.variables if optimizer is not None else ())]
    return [v.path for v in variables
            if "float" in v.dtype and not np.isfinite(np.asarray(v)).all()]


def _names(paths: list[str]) -> str:
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(paths[:3]) + more


def regularised_callbacks(has_validation: bool, patience: int | None,
                          lr_patience: int | None) -> list[keras.callbacks.Callback]:
    """Early stopping that restores the best-validation weights, and a plateau schedule.

    Without validation data there is nothing to watch and the list is empty.

    Args:
        has_validation: whether ``fit`` gets validation data.
        patience: epochs without a better ``val_loss`` before stopping (None: never
            stop early; the best weights are still restored at the end).
        lr_patience: epochs without a better ``val_loss`` before the learning rate
            is halved (None: constant rate).
    """
    check_count("patience", patience, minimum=0, optional=True)
    check_count("lr_patience", lr_patience, minimum=0, optional=True)
    if not has_validation:
        return []
    out: list[keras.callbacks.Callback] = [keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=10**9 if patience is None else int(patience),
        restore_best_weights=True)]
    if lr_patience is not None:
        out.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                     patience=int(lr_patience), verbose=0))
    return out


def fit_verbosity(verbose: int | str = "auto") -> int | str:
    """Keras ``fit`` verbosity: ``"auto"`` is a progress bar on a terminal and one line
    per epoch otherwise (logs, pipes, notebooks' captured output), never a bar's escape
    codes in a file. Any other value is returned as it is."""
    if verbose != "auto":
        return verbose
    return 1 if sys.stdout.isatty() else 2


def fit_with_baseline(model: keras.Model, train_ds, val_ds, *, epochs: int,
                      max_seconds: float | None, callbacks=(),
                      verbose="auto") -> tuple[dict, float | None]:
    """Evaluate the untrained model on ``val_ds``, then ``fit`` within a time budget.

    Training stops at a NaN/Inf loss or weights (:class:`StopOnNonFinite`), also where
    the step itself fails on them. ``verbose="auto"`` draws a progress bar only on a
    terminal (:func:`fit_verbosity`). Returns the history dict and the untrained
    validation loss (None without validation data).

    Raises:
        InvalidArgumentError: ``epochs`` below 1 or ``max_seconds`` not above 0.
        NonFiniteLossError: a loss, weight or optimizer slot became NaN / Inf.
    """
    check_count("epochs", epochs)
    check_positive("max_seconds", max_seconds, optional=True)
    verbose = fit_verbosity(verbose)
    initial = None
    if val_ds is not None:
        initial = float(model.evaluate(val_ds, verbose=0, return_dict=True)["loss"])
    stop = StopOnNonFinite()
    try:
        history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, shuffle=False,
                            callbacks=[TimeBudget(max_seconds), stop, *callbacks],
                            verbose=verbose)
    except tf.errors.OpError as error:
        explained = stop.explain(error)
        if explained is None:
            raise
        raise explained from error
    return dict(history.history), initial
