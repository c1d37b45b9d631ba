"""Training the piano-roll RNN on a list of pieces with ``Model.fit``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS
from kerasmusic.data.frames import FrameEncoding, rolls_dataset, split_encoded_pieces
from kerasmusic.data.notes import Piece
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn
from kerasmusic.quality import QualityReport, pianoroll_quality
from kerasmusic.training.callbacks import fit_with_baseline, regularised_callbacks
from kerasmusic.validation import check_rate, check_training


@dataclasses.dataclass
class PianoRollRNNResult:
    """What :func:`train_pianoroll_rnn` returns.

    Attributes:
        model: the trained model.
        encoding: the frame encoding to save with it.
        history: per-epoch metrics, e.g. ``history["loss"]``, ``history["val_loss"]``.
        initial_val_loss: validation loss of the untrained model (None without
            validation data): the baseline the training is measured against.
        quality: the held-out report (NLL per frame summed over keys, each validation
            piece read whole, next to per-key count models; None without validation
            data); print ``quality.table()``.
    """

    model: keras.Model
    encoding: FrameEncoding
    history: dict[str, list[float]]
    initial_val_loss: float | None = None
    quality: QualityReport | None = None


def _with_targets_as_input(frames, next_frames):
    return (frames, next_frames), next_frames


def train_pianoroll_rnn(
    pieces: Sequence[Piece],
    *,
    encoding: FrameEncoding | None = None,
    seq_len: int = 64,
    hop: int | None = None,
    units: int = 256,
    n_layers: int = 2,
    dropout: float = 0.0,
    skip: bool = True,
    output: str = "sigmoid",
    joint_units: int | None = None,
    epochs: int = 10,
    batch_size: int = 32,
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
) -> PianoRollRNNResult:
    """Encode ``pieces`` as frames, build :func:`build_pianoroll_rnn` and train it.

    Pieces are split by piece into training and validation; a piece without any
    note in the key range is left out with a warning. Keras prints the training
    and validation loss every epoch. With validation data, training stops early
    when the validation loss has not improved for ``patience`` epochs, the weights
    of the best validation epoch are kept, and the result carries the held-out
    quality report.

    Args:
        pieces: the corpus, e.g. ``load_corpus("chorales").pieces``.
        encoding: the frame encoding (default ``FrameEncoding()``: sixteenth-note
            frames, 88 keys, all pitched tracks).
        seq_len: frames per training window.
        hop: frames between window starts (default ``seq_len // 2``).
        units: LSTM units.
        n_layers: stacked LSTMs.
        dropout: dropout after each LSTM.
        skip: feed the input frame to the output layer too (see the builder).
        output: ``"sigmoid"`` (a sigmoid per key), ``"nade"`` or ``"made"`` (the keys
            of a frame modelled jointly; see the builder).
        joint_units: hidden units of a joint-keys output (None: the layer's default).
        epochs: maximum number of epochs.
        batch_size: windows per batch.
        learning_rate: Adam learning rate.
        validation_fraction: share of pieces held out.
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
                   max_seconds=max_seconds, seq_len=seq_len, hop=hop, units=units,
                   n_layers=n_layers, joint_units=joint_units)
    check_rate("dropout", dropout)
    keras.utils.set_random_seed(seed)
    encoding = encoding or FrameEncoding()
    split = split_encoded_pieces(pieces, encoding, validation_fraction, seed,
                                 on_error="skip", transpose=transpose)
    train, val = split.train, split.validation
    train_ds = rolls_dataset(split.augmented, seq_len, hop, batch_size, shuffle=True,
                             seed=seed)
    val_ds = rolls_dataset(val, seq_len, hop, batch_size, shuffle=False) if val else None
    if output != "sigmoid":  # a joint-keys output reads the next frames as a second input
        train_ds, val_ds = (None if ds is None else ds.map(_with_targets_as_input)
                            for ds in (train_ds, val_ds))
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_pianoroll_rnn(encoding.n_pitches, units, n_layers, dropout, skip=skip,
                                    output=output, joint_units=joint_units,
                                    learning_rate=learning_rate)
    extra = regularised_callbacks(val_ds is not None, patience, lr_patience)
    history, initial = fit_with_baseline(model, train_ds, val_ds, epochs=epochs,
                                         max_seconds=max_seconds,
                                         callbacks=[*extra, *callbacks], verbose=verbose)
    quality = pianoroll_quality(model, encoding, train, val,
                                augmented_train=split.augmented) if val else None
    return PianoRollRNNResult(model, encoding, history, initial, quality)
