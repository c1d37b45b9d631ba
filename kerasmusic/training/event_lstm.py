"""Training the event LSTM on a list of pieces with ``Model.fit``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS
from kerasmusic.data.events import EventEncoding, event_arrays_datasets
from kerasmusic.data.frames import split_encoded_pieces
from kerasmusic.data.notes import Piece
from kerasmusic.models.event_lstm import build_event_lstm
from kerasmusic.quality import QualityReport, event_lstm_quality
from kerasmusic.training.callbacks import fit_with_baseline, regularised_callbacks
from kerasmusic.validation import check_rate, check_training


@dataclasses.dataclass
class EventLSTMResult:
    """What :func:`train_event_lstm` returns.

    Attributes:
        model: the trained model.
        encoding: the event encoding to save with it.
        history: per-epoch metrics: ``loss`` (the three cross-entropies plus the L1
            penalty), ``note_loss``, ``velocity_loss``, ``time_loss``, the heads'
            accuracies (``note_acc``, ...) and the same with ``val_``.
        initial_val_loss: validation loss of the untrained model (None without
            validation data).
        quality: the held-out report, a row per head next to its count models (None
            without validation data); print ``quality.table()``.
    """

    model: keras.Model
    encoding: EventEncoding
    history: dict[str, list[float]]
    initial_val_loss: float | None = None
    quality: QualityReport | None = None


def train_event_lstm(
    pieces: Sequence[Piece],
    *,
    encoding: EventEncoding | None = None,
    units: int = 256,
    dropout: float = 0.5,
    l1: float = 1e-5,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 0.001,
    validation_fraction: float = 0.1,
    max_seconds: float | None = None,
    transpose: Sequence[int] | None = DEFAULT_SHIFTS,
    patience: int | None = 6,
    lr_patience: int | None = 2,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> EventLSTMResult:
    """Encode ``pieces`` as events, build :func:`build_event_lstm` and train it.

    Windows of ``encoding.seq_len`` (30) events predict the next event; pieces are
    split 9:1 (``validation_fraction``) by piece, never by window, so no validation
    window overlaps a training one. A piece without notes in the key range is left
    out with a warning. Keras prints the losses and head accuracies every epoch.
    With validation data, training stops early when the validation loss has not
    improved for ``patience`` epochs, the best validation epoch's weights are kept,
    and the result carries the held-out quality report.

    Args:
        pieces: the corpus, e.g. ``load_corpus("nottingham-dataset").pieces``.
        encoding: the event encoding (default ``EventEncoding()``: 88 keys, 128
            velocities, 12 time classes, windows of 30).
        units: LSTM units.
        dropout: dropout after the LSTM (0.5 in the seed).
        l1: L1 weight penalty.
        epochs: maximum number of epochs.
        batch_size: windows per batch.
        learning_rate: Adam learning rate.
        validation_fraction: share of pieces held out (0.1: the seed's 9:1).
        max_seconds: stop after this much training time (None: no limit).
        transpose: semitone shifts for copies of the training pieces (transposition
            augmentation, kept only where every note stays on the keys); None or
            ``()`` for none. Validation pieces are never shifted.
        patience: epochs without a better validation loss before stopping (None:
            train all epochs; the best weights are still kept).
        lr_patience: epochs without a better validation loss before the learning
            rate is halved (None: constant).
        seed: fixes weights, split and shuffling.
        strategy: a ``tf.distribute.Strategy`` to build and train under.
        callbacks: extra Keras callbacks.
        verbose: Keras ``fit`` verbosity (a progress bar only on a terminal).

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
    """
    check_training(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   max_seconds=max_seconds, units=units)
    check_rate("dropout", dropout)
    keras.utils.set_random_seed(seed)
    encoding = encoding or EventEncoding()
    split = split_encoded_pieces(pieces, encoding, validation_fraction, seed,
                                 on_error="skip", transpose=transpose)
    train, val = split.train, split.validation
    train_ds, val_ds = event_arrays_datasets(train, val, encoding, batch_size, seed,
                                             copies=split.augmented[len(train):])
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_event_lstm(*encoding.sizes, units=units, dropout=dropout, l1=l1,
                                 learning_rate=learning_rate)
    extra = regularised_callbacks(val_ds is not None, patience, lr_patience)
    history, initial = fit_with_baseline(model, train_ds, val_ds, epochs=epochs,
                                         max_seconds=max_seconds,
                                         callbacks=[*extra, *callbacks], verbose=verbose)
    quality = (event_lstm_quality(model, encoding, train, val, augmented_train=split.augmented)
               if val_ds is not None else None)
    return EventLSTMResult(model, encoding, history, initial, quality)
