"""Training the attention LSTM on a list of pieces with ``Model.fit``."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import keras
import tensorflow as tf

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.data.pipeline import make_note_duration_datasets
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.attention_lstm import create_network
from kerasmusic.training.callbacks import fit_with_baseline


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_note_lstm` returns.

    Attributes:
        model: the trained model.
        encoding: the fitted encoding (vocabularies, seq_len) to save with it.
        history: per-epoch metrics, e.g. ``history["val_loss"]``.
        initial_val_loss: validation loss of the untrained model (None without
            validation data): the baseline the training is measured against.
    """

    model: keras.Model
    encoding: NoteDurationEncoding
    history: dict[str, list[float]]
    initial_val_loss: float | None = None


def train_note_lstm(
    pieces: Sequence[Piece],
    *,
    tracks: Sequence[int] | None = None,
    seq_len: int = 32,
    embed_size: int = 100,
    rnn_units: int = 256,
    use_attention: bool = True,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 0.001,
    validation_fraction: float = 0.1,
    max_seconds: float | None = None,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> TrainResult:
    """Fit an encoding on ``pieces``, build :func:`create_network` and train it.

    Pieces are split into training and validation *by piece*; the loss of each
    head and the validation loss are reported per epoch.

    Args:
        pieces: the corpus, e.g. ``load_corpus("chorales").pieces``.
        tracks: which tracks to read (None: all parts as chords; ``[0]``: the
            first part only).
        seq_len: window length.
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
        verbose: Keras ``fit`` verbosity (progress bar by default).
    """
    keras.utils.set_random_seed(seed)
    encoding = NoteDurationEncoding(seq_len=seq_len, tracks=tracks)
    usable = [p for p in pieces if encoding.has_tracks(p)]
    if len(usable) < len(pieces):
        warnings.warn(f"kerasmusic: {len(pieces) - len(usable)} of {len(pieces)} pieces lack "
                      f"pitched track(s) {tracks} and are left out", stacklevel=2)
    if not usable:
        raise KerasMusicError(f"no piece has pitched track(s) {tracks}")
    pieces = usable
    encoding.fit(pieces)
    train_ds, val_ds = make_note_duration_datasets(
        pieces, encoding, batch_size, validation_fraction, seed
    )
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = create_network(encoding.n_pitches, encoding.n_durations, embed_size, rnn_units,
                               use_attention, learning_rate=learning_rate)
    history, initial = fit_with_baseline(model, train_ds, val_ds, epochs=epochs,
                                         max_seconds=max_seconds, callbacks=callbacks,
                                         verbose=verbose)
    return TrainResult(model, encoding, history, initial)
