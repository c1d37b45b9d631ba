"""Training the attention LSTM on a list of pieces with ``Model.fit``."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import keras
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS, transposed_copies
from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.data.pipeline import (
    note_duration_dataset,
    note_duration_step_dataset,
    split_unique,
)
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.attention_lstm import create_network, every_step_model
from kerasmusic.quality import QualityReport, note_lstm_quality
from kerasmusic.training.callbacks import fit_with_baseline, regularised_callbacks
from kerasmusic.validation import check_training


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_note_lstm` returns.

    Attributes:
        model: the trained model.
        encoding: the fitted encoding (vocabularies, seq_len) to save with it.
        history: per-epoch metrics, e.g. ``history["val_loss"]``.
        initial_val_loss: validation loss of the untrained model (None without
            validation data): the baseline the training is measured against.
        quality: held-out NLL per stream next to the unigram and bigram count
            models (None without validation data); print ``quality.table()``.
        train_pieces: the training pieces as written (before transposition).
        validation_pieces: the held-out pieces.
    """

    model: keras.Model
    encoding: NoteDurationEncoding
    history: dict[str, list[float]]
    initial_val_loss: float | None = None
    quality: QualityReport | None = None
    train_pieces: list[Piece] = dataclasses.field(default_factory=list)
    validation_pieces: list[Piece] = dataclasses.field(default_factory=list)


def train_note_lstm(
    pieces: Sequence[Piece],
    *,
    tracks: Sequence[int] | None = None,
    seq_len: int = 8,
    embed_size: int = 32,
    rnn_units: int = 128,
    use_attention: bool = True,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 0.003,
    validation_fraction: float = 0.1,
    max_seconds: float | None = None,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    transpose: Sequence[int] | None = DEFAULT_SHIFTS,
    dropout: float = 0.3,
    min_count: int = 2,
    patience: int | None = 6,
    lr_patience: int | None = 2,
    every_step: bool = False,
    chords: str = "split",
) -> TrainResult:
    """Fit an encoding on ``pieces``, build :func:`create_network` and train it.

    Pieces are split into training and validation *by piece* (identical token
    sequences kept once); only the training pieces are transposed
    (``transpose``), and the vocabularies are fitted on them, so a held-out token
    never seen in training encodes as ``"<unk>"``. The best-validation weights are
    kept, and the result carries the held-out quality report (model vs unigram and
    bigram count models on the same targets).

    Args:
        pieces: the corpus, e.g. ``load_corpus("chorales").pieces``.
        tracks: which tracks to read (None: all parts as chords; ``[0]``: the
            first part only).
        seq_len: window length (the defaults, 8 / 32 / 128 / 3e-3, were chosen by
            held-out NLL on the chorales: see docs/quality.md).
        embed_size: embedding width.
        rnn_units: LSTM units.
        use_attention: attention pooling or the last LSTM output.
        epochs: maximum number of epochs.
        batch_size: global batch size.
        learning_rate: RMSprop learning rate.
        validation_fraction: share of pieces held out for validation.
        max_seconds: stop after this much training time (None: no limit).
        seed: fixes weights, split and shuffling.
        strategy: a ``tf.distribute.Strategy`` to build and train under
            (default: the current one).
        callbacks: extra Keras callbacks.
        verbose: Keras ``fit`` verbosity (a progress bar only on a terminal).
        transpose: semitone shifts for the training pieces' transposed copies
            (None or empty: no augmentation).
        dropout: dropout rate of the LSTMs' inputs and the pooled context.
        min_count: tokens seen fewer times in the training data become ``"<unk>"``.
        patience: stop after this many epochs without a better validation loss
            (None: run all epochs); the best epoch's weights are restored either way.
        lr_patience: halve the learning rate after this many epochs without a better
            validation loss (None: constant rate).
        every_step: train on chunks of ``seq_len`` events with the next event predicted
            after every step (:func:`~kerasmusic.models.attention_lstm.every_step_model`:
            the same weights, about ``seq_len / 2`` times more targets per second than
            one per window). The validation loss is the windowed model's either way.
            Needs ``use_attention``. Off by default: on the chorale soprano it reached
            a worse held-out NLL than sliding windows in the same time (measured).
        chords: how notes that start together become tokens (see
            :class:`~kerasmusic.data.note_tokens.NoteDurationEncoding`): ``"split"``, a
            token per note (the default: a closed pitch vocabulary, measured better
            than chord tokens on the four-voice chorales) or ``"joined"``, a token per
            chord. One line (``tracks=[0]``) encodes the same either way.

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
        NonFiniteLossError: the loss or the weights became NaN / Inf.
    """
    check_training(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   max_seconds=max_seconds, seq_len=seq_len, embed_size=embed_size,
                   rnn_units=rnn_units)
    keras.utils.set_random_seed(seed)
    encoding, train, val, augmented = prepare_note_duration_data(
        pieces, tracks=tracks, seq_len=seq_len, min_count=min_count, chords=chords,
        validation_fraction=validation_fraction, seed=seed, transpose=transpose)
    every_step = every_step and use_attention
    if every_step:
        train_ds = note_duration_step_dataset(augmented, encoding, batch_size, shuffle=True,
                                              seed=seed)
        val_ds = note_duration_step_dataset(val, encoding, batch_size, stride=1,
                                            last_only=True, shuffle=False) if val else None
    else:
        train_ds = note_duration_dataset(augmented, encoding, batch_size, shuffle=True,
                                         seed=seed)
        val_ds = note_duration_dataset(val, encoding, batch_size, shuffle=False) if val else None
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = create_network(encoding.n_pitches, encoding.n_durations, embed_size, rnn_units,
                               use_attention, learning_rate=learning_rate, dropout=dropout)
        trained = model
        if every_step:
            # Same layers, a target per step; the optimizer is shared so the saved model
            # carries its state.
            # (The default reduction divides by the steps of the global batch, so the loss
            # is the same on one device and under MirroredStrategy.)
            trained = every_step_model(model)
            trained.compile(optimizer=model.optimizer,
                            loss={"pitch": keras.losses.SparseCategoricalCrossentropy(),
                                  "duration": keras.losses.SparseCategoricalCrossentropy()})
    extra = regularised_callbacks(val_ds is not None, patience, lr_patience)
    history, initial = fit_with_baseline(trained, train_ds, val_ds, epochs=epochs,
                                         max_seconds=max_seconds,
                                         callbacks=[*extra, *callbacks], verbose=verbose)
    quality = note_lstm_quality(model, encoding, train, val, augmented_train=augmented) \
        if val else None
    return TrainResult(model, encoding, history, initial, quality, train, val)


def prepare_note_duration_data(
    pieces: Sequence[Piece],
    *,
    tracks: Sequence[int] | None,
    seq_len: int,
    min_count: int,
    chords: str,
    validation_fraction: float,
    seed: int,
    transpose: Sequence[int] | None,
) -> tuple[NoteDurationEncoding, list[Piece], list[Piece], list[Piece]]:
    """The note/duration trainers' data: (fitted encoding, train, validation, augmented train).

    Pieces without the chosen tracks are left out (with a warning); the rest are split
    by piece (:func:`~kerasmusic.data.pipeline.split_unique`), the training pieces get
    their transposed copies and the vocabularies are fitted on those.

    Raises:
        KerasMusicError: no piece has the chosen tracks.
    """
    encoding, train, val = split_note_duration_pieces(
        pieces, tracks=tracks, seq_len=seq_len, min_count=min_count, chords=chords,
        validation_fraction=validation_fraction, seed=seed)
    augmented = transposed_copies(train, transpose, seed=seed)
    encoding.fit(augmented)
    return encoding, train, val, augmented


def split_note_duration_pieces(
    pieces: Sequence[Piece],
    *,
    tracks: Sequence[int] | None,
    seq_len: int,
    min_count: int,
    chords: str,
    validation_fraction: float,
    seed: int,
) -> tuple[NoteDurationEncoding, list[Piece], list[Piece]]:
    """The note/duration trainers' split: (unfitted encoding, train, validation).

    Pieces without the chosen pitched tracks are left out (with a warning); the rest
    are split by piece (:func:`~kerasmusic.data.pipeline.split_unique`: identical token
    sequences kept once). Other token families (REMI) hold out the same pieces by
    calling it with the same arguments.

    Raises:
        KerasMusicError: no piece has the chosen tracks.
    """
    encoding = NoteDurationEncoding(seq_len=seq_len, tracks=tracks, min_count=min_count,
                                    chords=chords)
    usable = [p for p in pieces if encoding.has_tracks(p)]
    if len(usable) < len(pieces):
        warnings.warn(f"kerasmusic: {len(pieces) - len(usable)} of {len(pieces)} pieces lack "
                      f"pitched track(s) {tracks} and are left out", stacklevel=4)
    if not usable:
        raise KerasMusicError(f"no piece has pitched track(s) {tracks}")
    train, val = split_unique(usable, encoding, validation_fraction, seed)
    return encoding, train, val
