"""Windows of REMI token ids for a single-stream model, for training and for scoring.

Each piece is its :meth:`~kerasmusic.RemiEncoding.training_sequence` (``<start>``, its
ids, ``<end>``); a window reads ``seq_len`` ids and has the next id after every step as
its target. Training windows start every ``stride`` ids (the last one ends at the
piece's end). Scoring windows give each target of a piece exactly once, from as much
context as the window allows: they start every ``seq_len // 2`` ids and each scores
only the targets the window before it did not, so every target after the first
``seq_len`` ids is predicted from at least ``seq_len // 2`` ids before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from kerasmusic.errors import KerasMusicError
from kerasmusic.validation import check_count


def _starts(n_targets: int, seq_len: int, stride: int) -> list[int]:
    last = max(n_targets - seq_len, 0)
    return sorted(set(range(0, last + 1, stride)) | {last})


def remi_windows(
    sequences: Sequence[np.ndarray], seq_len: int, stride: int | None = None, *,
    score_once: bool = False, pad_id: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, mask), each (windows, seq_len), of the id ``sequences``.

    Args:
        sequences: one training sequence per piece (``<start>`` ... ``<end>``).
        seq_len: ids per window.
        stride: ids between window starts (default ``seq_len // 2``); with
            ``score_once`` always ``seq_len // 2``.
        score_once: the mask marks each target of a piece once (for scoring); else
            every real target (not the padding of a piece shorter than a window).
        pad_id: the id that pads a short piece.

    Returns:
        int32 inputs and targets, float32 mask (1 for a target that counts).
    """
    check_count("seq_len", seq_len)
    half = max(seq_len // 2, 1)
    stride = half if stride is None or score_once else check_count("stride", stride)
    inputs, targets, masks = [], [], []
    for seq in sequences:
        seq = np.asarray(seq, np.int64)
        n = len(seq) - 1  # targets
        if n < 1:
            continue
        padded = np.concatenate([seq, np.full(max(seq_len - n, 0), pad_id)])
        starts = np.asarray(_starts(n, seq_len, stride))
        index = starts[:, None] + np.arange(seq_len)[None, :]
        inputs.append(padded[index])
        targets.append(padded[index + 1])
        mask = index < n
        if score_once:
            # a window scores the targets past the end of the one before it
            seen = np.append(0, starts[:-1] + seq_len)
            mask &= index >= seen[:, None]
        masks.append(mask)
    if not inputs:
        raise KerasMusicError("no pieces to make windows from")
    return (np.concatenate(inputs).astype(np.int32), np.concatenate(targets).astype(np.int32),
            np.concatenate(masks).astype(np.float32))


def remi_dataset(
    sequences: Sequence[np.ndarray], seq_len: int, batch_size: int, *,
    stride: int | None = None, score_once: bool = False, shuffle: bool = True, seed: int = 0,
) -> tf.data.Dataset:
    """Batches of ``(inputs, targets, weights)`` from :func:`remi_windows`.

    With ``score_once`` (validation) the weights are the mask scaled so that Keras'
    loss, which divides by every step of every window, is exactly the mean NLL per
    scored target: the held-out figure of the quality report.
    """
    check_count("batch_size", batch_size)
    inputs, targets, mask = remi_windows(sequences, seq_len, stride, score_once=score_once)
    weights = mask * (mask.size / mask.sum()) if score_once else mask
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets, weights))
    if shuffle:
        ds = ds.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def remi_nll(model, sequences: Sequence[np.ndarray], seq_len: int,
             batch_size: int = 32) -> tuple[float, int]:
    """(mean NLL in nats, targets) of a next-token model on ``sequences``, every target
    once (:func:`remi_windows` with ``score_once``)."""
    inputs, targets, mask = remi_windows(sequences, seq_len, score_once=True)
    total = 0.0
    for i in range(0, len(inputs), batch_size):
        probs = np.asarray(model.predict(inputs[i:i + batch_size], verbose=0), np.float64)
        p = np.take_along_axis(probs, targets[i:i + batch_size, :, None].astype(np.int64),
                               axis=-1)[..., 0]
        total += float(-np.sum(np.log(np.maximum(p, 1e-30)) * mask[i:i + batch_size]))
    count = int(mask.sum())
    return total / count, count
