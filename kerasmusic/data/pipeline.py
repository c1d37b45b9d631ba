"""``tf.data`` pipelines: sliding windows with next-event targets, split by piece."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.errors import KerasMusicError


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
    inputs, targets = note_duration_arrays(pieces, encoding)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(len(targets["pitch"]), seed=seed, reshuffle_each_iteration=True)
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
    train, val = split_pieces(unique_pieces(pieces, encoding), validation_fraction, seed)
    train_ds = note_duration_dataset(train, encoding, batch_size, shuffle=True, seed=seed)
    val_ds = note_duration_dataset(val, encoding, batch_size, shuffle=False) if val else None
    return train_ds, val_ds
