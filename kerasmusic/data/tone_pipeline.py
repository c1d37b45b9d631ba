"""``tf.data`` pipelines of fixed-length tone sequences for the C-RNN-GAN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from kerasmusic.data.notes import Piece
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import KerasMusicError


def random_crops(arrays: Sequence[np.ndarray], seq_len: int, seed: int = 0):
    """Endless generator of (seq_len, features) crops: a random piece, a random offset.

    Pieces shorter than ``seq_len`` are never chosen. Fixed by ``seed``.
    """
    usable = [a for a in arrays if len(a) >= seq_len]
    if not usable:
        raise KerasMusicError(f"no piece has {seq_len} or more cells; use a shorter seq_len")
    rng = np.random.default_rng(seed)
    while True:
        piece = usable[rng.integers(len(usable))]
        start = rng.integers(len(piece) - seq_len + 1)
        yield piece[start:start + seq_len]


def tone_dataset(
    pieces: Sequence[Piece],
    encoding: ToneEncoding | ScaledTokenEncoding,
    seq_len: int = 100,
    batch_size: int = 32,
    steps_per_epoch: int | None = None,
    seed: int = 0,
    *,
    copies: Sequence[Piece] = (),
) -> tf.data.Dataset:
    """Batches of random crops of the pieces' encoded features (tones or scaled tokens).

    Each epoch (one pass over the returned dataset) holds ``steps_per_epoch``
    batches (default: about one crop per ``seq_len`` cells of the corpus as written),
    each of shape (batch_size, seq_len, encoding.n_features); batches are always full,
    as a distributed loop needs. Crops are new every epoch and fixed by ``seed``.
    Crops are also cut from ``copies`` (e.g. the pieces' transposed copies,
    :func:`~kerasmusic.data.augment.copies_only`; fit the encoding on them too, so
    their tokens are known), which do not lengthen the epoch.
    """
    arrays = [encoding.encode(p) for p in pieces]
    if steps_per_epoch is None:
        cells = sum(len(a) for a in arrays)
        steps_per_epoch = max(1, cells // (seq_len * batch_size))
    arrays += [encoding.encode(p) for p in copies]
    crops = random_crops(arrays, seq_len, seed)
    spec = tf.TensorSpec((seq_len, encoding.n_features), tf.float32)
    ds = tf.data.Dataset.from_generator(lambda: crops, output_signature=spec)
    return ds.batch(batch_size, drop_remainder=True).take(steps_per_epoch).prefetch(2)
