"""Training the Music Transformer on the attention LSTM's note/duration tokens, or on
REMI-style multi-track tokens.

The Transformer reads the tokens and the split of :func:`~kerasmusic.train_note_lstm`
(:class:`~kerasmusic.NoteDurationEncoding`, split chords by default, the same pieces
held out for the same seed). Each step is one event: its pitch and duration
embeddings are summed, and two softmax heads predict the next event's pitch and
duration, as the LSTM's two heads do. So the held-out report measures the same
targets, each from the ``seq_len`` events before it (start tokens before a piece's
first), in the same nats per token, next to the same count models.

With ``tokens="remi"`` the same pieces are held out (the note/duration split), and a
single-stream Transformer learns the next :class:`~kerasmusic.RemiEncoding` id after
every step of windows of ``seq_len`` ids; the report scores every held-out id once
(:func:`~kerasmusic.quality.remi_quality`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS, transposed_copies
from kerasmusic.data.notes import Piece
from kerasmusic.data.pipeline import note_duration_step_dataset
from kerasmusic.data.remi import RemiEncoding
from kerasmusic.data.remi_pipeline import remi_dataset
from kerasmusic.errors import InvalidArgumentError
from kerasmusic.models.music_transformer import (
    build_music_transformer,
    last_step_model,
    note_duration_transformer,
)
from kerasmusic.quality import note_lstm_quality, remi_quality
from kerasmusic.training.callbacks import Warmup, fit_with_baseline, regularised_callbacks
from kerasmusic.training.note_lstm import (
    TrainResult,
    prepare_note_duration_data,
    split_note_duration_pieces,
)
from kerasmusic.validation import check_count, check_training

#: Learning-rate schedules after the warm-up (see :func:`train_music_transformer`).
SCHEDULES = ("cosine", "plateau")
#: Token families the Transformer trains on (see :func:`train_music_transformer`).
TOKENS = ("note_duration", "remi")
#: The default window of each token family.
DEFAULT_SEQ_LEN = {"note_duration": 32, "remi": 64}


@dataclasses.dataclass
class TransformerResult(TrainResult):
    """What :func:`train_music_transformer` returns: :class:`~kerasmusic.TrainResult`'s
    fields (``model`` predicts the event after a window, the model to save and to
    generate with; ``encoding`` is the :class:`~kerasmusic.RemiEncoding` with
    ``tokens="remi"``) and the model it shares its weights with.

    Attributes:
        sequence_model: the trained model, which predicts the next event after every
            step (:func:`~kerasmusic.build_music_transformer`'s output).
    """

    sequence_model: keras.Model | None = None


def train_music_transformer(
    pieces: Sequence[Piece],
    *,
    tracks: Sequence[int] | None = None,
    seq_len: int | None = None,
    n_layers: int = 4,
    d_model: int = 128,
    n_heads: int = 4,
    ff_dim: int | None = None,
    relative: bool = True,
    epochs: int = 50,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    warmup_steps: int = 200,
    validation_fraction: float = 0.1,
    max_seconds: float | None = None,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    transpose: Sequence[int] | None = DEFAULT_SHIFTS,
    dropout: float = 0.1,
    min_count: int = 2,
    patience: int | None = 6,
    lr_patience: int | None = 2,
    schedule: str = "cosine",
    chords: str = "split",
    stride: int | None = None,
    checkpoint_dir: str | None = None,
    log_dir: str | None = None,
    tokens: str = "note_duration",
    remi: RemiEncoding | None = None,
    condition_track: int | None = None,
    condition_bars: int = 2,
) -> TransformerResult:
    """Fit a note/duration encoding on ``pieces`` (or take REMI tokens, ``tokens="remi"``),
    build a Music Transformer and train it.

    The data are prepared exactly as :func:`~kerasmusic.train_note_lstm` prepares
    them (same split for the same ``seed`` and ``validation_fraction``, transposed
    copies of the training pieces only, vocabularies fitted on them). Training reads
    chunks of ``seq_len`` events and predicts the next event after every step; the
    validation loss is the mean NLL of every held-out event predicted from the
    ``seq_len`` events before it, the number the quality report gives. The learning
    rate rises linearly over ``warmup_steps`` batches, then follows ``schedule``;
    the best-validation weights are kept.

    Args:
        pieces: the corpus, e.g. ``load_corpus("chorales").pieces``.
        tracks: which tracks to read (None: all parts; ``[0]``: the first part only).
        seq_len: events (REMI: ids) the model reads (its ``max_len``): training chunk
            and prediction window (default 32 events, REMI 64 ids: the best held-out NLL
            of 32, 64, 128 and 256 in 600 s on the chorales, docs/music_transformer.md).
        n_layers, d_model, n_heads, ff_dim, relative: the model's shape
            (:func:`~kerasmusic.build_music_transformer`).
        epochs: maximum number of epochs.
        batch_size: global batch size (chunks).
        learning_rate: Adam's peak learning rate.
        warmup_steps: batches of linear warm-up (0: none).
        validation_fraction: share of pieces held out for validation.
        max_seconds: stop after this much training time (None: no limit).
        seed: fixes weights, split and shuffling.
        strategy: a ``tf.distribute.Strategy`` to build and train under
            (default: the current one).
        callbacks: extra Keras callbacks.
        verbose: Keras ``fit`` verbosity (a progress bar only on a terminal).
        transpose: semitone shifts of the training pieces' copies (None: none).
        dropout: dropout rate of the embeddings, attention weights and residuals.
        min_count: tokens seen fewer times in training become ``"<unk>"``.
        patience: stop after this many epochs without a better validation loss
            (None: run all epochs); the best epoch's weights are restored either way.
        lr_patience: with ``schedule="plateau"``, halve the learning rate after this many
            epochs without a better validation loss (None: no halving).
        schedule: after the warm-up, ``"cosine"``: the rate falls along a cosine to 0 at
            the end of the run (``max_seconds`` or ``epochs``, whichever comes first);
            ``"plateau"``: it stays until the validation loss stalls, then halves.
        chords: ``"split"`` (a token per note) or ``"joined"`` (a token per chord).
        stride: events between the starts of two training chunks (default
            ``seq_len // 2``).
        checkpoint_dir: back up the model and optimizer there after every epoch; a run
            started again with the same folder resumes from the last backup (deleted
            when training ends normally).
        log_dir: write TensorBoard logs there.
        tokens: ``"note_duration"`` (the attention LSTM's tokens, two streams) or
            ``"remi"`` (:class:`~kerasmusic.RemiEncoding`: one stream of REMI-style
            multi-track tokens of the ``tracks`` read; the same pieces held out; the
            transposed copies those that keep every pitch in the encoding's range).
            ``chords`` and ``min_count`` only shape the split then (REMI's vocabulary is
            fixed).
        remi: the REMI encoding to use (default: ``RemiEncoding()`` with ``seq_len``,
            ``tracks`` and as many track tokens as the most tracks a piece has).
        condition_track: with ``tokens="remi"``, train an accompaniment model given
            this track (a number among the tracks read): each example is ``<start>``,
            that track's ids alone in a span of ``condition_bars`` bars, ``<sep>``, the
            other tracks' ids in the same span, ``<end>``
            (:meth:`~kerasmusic.RemiEncoding.conditional_sequences`); the loss counts
            every id (the given part too), the split is the same.
            :func:`~kerasmusic.generate_accompaniment` generates with it.
        condition_bars: bars per accompaniment example.

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
        NonFiniteLossError: the loss or the weights became NaN / Inf.
    """
    if tokens not in TOKENS:
        raise InvalidArgumentError(f"tokens must be one of {TOKENS}, got {tokens!r}")
    if condition_track is not None and tokens != "remi":
        raise InvalidArgumentError("condition_track needs tokens='remi'")
    if seq_len is None:
        seq_len = remi.seq_len if remi is not None else DEFAULT_SEQ_LEN[tokens]
    check_training(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   max_seconds=max_seconds, seq_len=seq_len)
    check_count("warmup_steps", warmup_steps, minimum=0)
    check_count("stride", stride, optional=True)
    if schedule not in SCHEDULES:
        raise InvalidArgumentError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    keras.utils.set_random_seed(seed)
    shape = dict(max_len=seq_len, n_layers=n_layers, d_model=d_model, n_heads=n_heads,
                 ff_dim=ff_dim, dropout=dropout, relative=relative, learning_rate=learning_rate)
    strategy = strategy or tf.distribute.get_strategy()
    if tokens == "remi":
        _, train, val = split_note_duration_pieces(
            pieces, tracks=tracks, seq_len=seq_len, min_count=min_count, chords=chords,
            validation_fraction=validation_fraction, seed=seed)
        encoding = remi or RemiEncoding(
            seq_len=seq_len, tracks=tracks, n_tracks=len(tracks) if tracks else
            max(len(p.tracks) for p in [*train, *val]), condition_track=condition_track,
            condition_bars=condition_bars)
        if encoding.seq_len != seq_len:
            raise InvalidArgumentError(f"seq_len={seq_len} differs from the REMI encoding's "
                                       f"seq_len={encoding.seq_len}")
        augmented = transposed_copies(train, transpose, pitch_range=encoding.pitch_range,
                                      seed=seed)
        train_ds = remi_dataset([s for p in augmented for s in encoding.model_sequences(p)],
                                seq_len, batch_size, stride=stride, shuffle=True, seed=seed)
        val_ds = remi_dataset([s for p in val for s in encoding.model_sequences(p)], seq_len,
                              batch_size, score_once=True, shuffle=False) if val else None
        with strategy.scope():
            model = build_music_transformer(encoding.vocab_size, **shape)
    else:
        encoding, train, val, augmented = prepare_note_duration_data(
            pieces, tracks=tracks, seq_len=seq_len, min_count=min_count, chords=chords,
            validation_fraction=validation_fraction, seed=seed, transpose=transpose)
        train_ds = note_duration_step_dataset(augmented, encoding, batch_size, stride=stride,
                                              shuffle=True, seed=seed)
        # stride 1, last step only: the loss of each held-out event from its full window.
        val_ds = note_duration_step_dataset(val, encoding, batch_size, stride=1,
                                            last_only=True, shuffle=False) if val else None
        with strategy.scope():
            model = note_duration_transformer(encoding.n_pitches, encoding.n_durations,
                                              **shape)
    cosine = schedule == "cosine"
    extra = regularised_callbacks(val_ds is not None, patience, None if cosine else lr_patience)
    if cosine:
        extra.append(Warmup(warmup_steps, learning_rate, decay_seconds=max_seconds,
                            decay_steps=epochs * int(train_ds.cardinality())))
    elif warmup_steps:
        extra.append(Warmup(warmup_steps, learning_rate))
    if checkpoint_dir is not None:
        extra.append(keras.callbacks.BackupAndRestore(str(checkpoint_dir)))
    if log_dir is not None:
        extra.append(keras.callbacks.TensorBoard(str(log_dir)))
    history, initial = fit_with_baseline(model, train_ds, val_ds, epochs=epochs,
                                         max_seconds=max_seconds,
                                         callbacks=[*extra, *callbacks], verbose=verbose)
    next_event = last_step_model(model)
    if not val:
        quality = None
    elif tokens == "remi":
        quality = remi_quality(model, encoding, train, val, augmented_train=augmented)
    else:
        quality = note_lstm_quality(next_event, encoding, train, val, augmented_train=augmented,
                                    name="Music Transformer")
    return TransformerResult(next_event, encoding, history, initial, quality, train, val,
                             sequence_model=model)
