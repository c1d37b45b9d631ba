"""``tf.data`` pipelines: sliding windows with next-event targets, split by piece."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.errors import KerasMusicError
from kerasmusic.validation import check_count


def split_pieces(
    pieces: Sequence, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[list, list]:
    """Split whole pieces into (train, validation); no piece lands in both.

    At least one piece goes to validation when there are two or more pieces and
    ``validation_fraction`` > 0. The split is fixed by ``seed``.
    """
    if not 0 <= validation_fraction < 1:
        raise KerasMusicError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    order = list(range(len(pieces)))
    random.Random(seed).shuffle(order)
    n_val = round(len(pieces) * validation_fraction)
    if validation_fraction > 0 and len(pieces) >= 2:
        n_val = min(max(n_val, 1), len(pieces) - 1)
    val_idx = set(order[:n_val])
    train = [p for i, p in enumerate(pieces) if i not in val_idx]
    val = [p for i, p in enumerate(pieces) if i in val_idx]
    return train, val


def unique_pieces(pieces: Sequence[Piece], encoding: NoteDurationEncoding) -> list[Piece]:
    """``pieces`` without those whose token sequence repeats an earlier piece's.

    Different files can hold the same melody (a chorale tune harmonised twice):
    once reduced to the chosen tracks they are one piece, and keeping both would put
    the same sequence on both sides of a train/validation split.
    """
    seen, out = set(), []
    for piece in pieces:
        key = tuple(encoding.to_tokens(piece))
        if key not in seen:
            seen.add(key)
            out.append(piece)
    return out


def split_unique(
    pieces: Sequence[Piece], encoding, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Piece], list[Piece]]:
    """:func:`unique_pieces` then :func:`split_pieces`: the trainers' (train, validation) split.

    The same pieces, encoding, fraction and seed always give the same split, so a
    quality report made later (``kerasmusic evaluate --model``) scores the pieces
    the model was validated on.
    """
    return split_pieces(unique_pieces(pieces, encoding), validation_fraction, seed)


def sliding_windows(sequence: Sequence[int], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows of ``seq_len`` ids with the id that follows each: (N, seq_len), (N,)."""
    seq = np.asarray(sequence, dtype=np.int32)
    n = len(seq) - seq_len
    if n <= 0:
        return np.zeros((0, seq_len), np.int32), np.zeros((0,), np.int32)
    windows = np.lib.stride_tricks.sliding_window_view(seq, seq_len)[:n]
    return np.ascontiguousarray(windows), seq[seq_len:]


def note_duration_arrays(
    pieces: Sequence[Piece], encoding: NoteDurationEncoding
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Windows and targets of every piece: ({"notes", "durations"}, {"pitch", "duration"})."""
    parts = {"notes": [], "durations": [], "pitch": [], "duration": []}
    for piece in pieces:
        pitch_ids, duration_ids = encoding.training_sequence(piece)
        x_p, y_p = sliding_windows(pitch_ids, encoding.seq_len)
        x_d, y_d = sliding_windows(duration_ids, encoding.seq_len)
        for key, value in zip(parts, (x_p, x_d, y_p, y_d)):
            parts[key].append(value)
    if not parts["notes"]:
        raise KerasMusicError("no pieces to make windows from")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return ({"notes": cat["notes"], "durations": cat["durations"]},
            {"pitch": cat["pitch"], "duration": cat["duration"]})


def note_duration_dataset(
    pieces: Sequence[Piece],
    encoding: NoteDurationEncoding,
    batch_size: int = 64,
    *,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """A batched dataset of (windows, next-event targets) for :func:`create_network`.

    Elements are ``({"notes": (B, seq_len), "durations": (B, seq_len)},
    {"pitch": (B,), "duration": (B,)})``, shuffled (when asked) with ``seed``,
    batched and prefetched.
    """
    check_count("batch_size", batch_size)
    inputs, targets = note_duration_arrays(pieces, encoding)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(len(targets["pitch"]), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def note_duration_step_arrays(
    pieces: Sequence[Piece], encoding: NoteDurationEncoding, stride: int | None = None,
    *, last_only: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Chunks of ``seq_len`` events with the next event after every step.

    For each piece's :meth:`~NoteDurationEncoding.training_sequence`, chunks start
    every ``stride`` events (default ``seq_len // 2``; the last chunk ends at the
    piece's end). Returns (inputs ``{"notes", "durations"}`` of shape (N, seq_len),
    targets ``{"pitch", "duration"}`` of the same shape, weights (N, seq_len)):
    a weight is 0 where the target is still start padding, so the model never learns
    that a start token follows a start token, and 1 for every real target. A chunk's
    last step is exactly the sliding-window example of :func:`note_duration_arrays`.
    With ``last_only`` (for validation) only each chunk's last step counts, with
    weight ``seq_len``: Keras divides a weighted loss by the number of steps, so with
    ``stride=1`` the loss is then exactly the windowed model's mean NLL.
    """
    seq_len = encoding.seq_len
    stride = max(1, seq_len // 2) if stride is None else int(stride)
    if stride < 1:
        raise KerasMusicError(f"stride must be at least 1, got {stride}")
    parts: dict[str, list] = {"notes": [], "durations": [], "pitch": [], "duration": [], "w": []}
    for piece in pieces:
        pitch_ids, duration_ids = (np.asarray(s, np.int32)
                                   for s in encoding.training_sequence(piece))
        last = len(pitch_ids) - seq_len - 1
        starts = sorted(set(range(0, last + 1, stride)) | {last})
        index = np.asarray(starts)[:, None] + np.arange(seq_len)[None, :]
        parts["notes"].append(pitch_ids[index])
        parts["durations"].append(duration_ids[index])
        parts["pitch"].append(pitch_ids[index + 1])
        parts["duration"].append(duration_ids[index + 1])
        weights = (index + 1 >= seq_len).astype(np.float32)
        if last_only:
            weights[:, :-1] = 0.0
            weights[:, -1] = seq_len
        parts["w"].append(weights)
    if not parts["notes"]:
        raise KerasMusicError("no pieces to make windows from")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return ({"notes": cat["notes"], "durations": cat["durations"]},
            {"pitch": cat["pitch"], "duration": cat["duration"]}, cat["w"])


def note_duration_step_dataset(
    pieces: Sequence[Piece],
    encoding: NoteDurationEncoding,
    batch_size: int = 64,
    *,
    stride: int | None = None,
    last_only: bool = False,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """A batched dataset of chunks with a target after every step, for the model of
    :func:`~kerasmusic.models.attention_lstm.every_step_model`.

    Elements are ``(inputs, targets, (pitch weights, duration weights))``, targets
    and weights of shape (B, seq_len); ``stride`` and ``last_only`` as in
    :func:`note_duration_step_arrays`.
    """
    inputs, targets, weights = note_duration_step_arrays(pieces, encoding, stride,
                                                         last_only=last_only)
    # Keras matches per-output sample weights given as a tuple in output order, not a dict.
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets, (weights, weights)))
    if shuffle:
        ds = ds.shuffle(len(weights), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def make_note_duration_datasets(
    pieces: Sequence[Piece],
    encoding: NoteDurationEncoding,
    batch_size: int = 64,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """Split ``pieces`` by piece and make (train, validation) datasets.

    Pieces with the same token sequence are kept once (:func:`unique_pieces`), then
    split; validation windows come only from validation pieces. The validation
    dataset is None when ``validation_fraction`` is 0 or there is only one piece.
    """
    train, val = split_unique(pieces, encoding, validation_fraction, seed)
    train_ds = note_duration_dataset(train, encoding, batch_size, shuffle=True, seed=seed)
    val_ds = note_duration_dataset(val, encoding, batch_size, shuffle=False) if val else None
    return train_ds, val_ds
