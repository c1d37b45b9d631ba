"""Choosing the next token from a model's output, shared by every generator.

All functions here are plain TensorFlow ops: they run eagerly, inside
``tf.function`` and under XLA alike. Randomness comes in as uniform draws made
up front by :func:`draw_uniforms`, so a compiled loop and a plain Python loop fed
the same draws choose exactly the same tokens, and a seed fixes the output.

Two ways to draw from the (filtered, tempered) softmax, with the same distribution:
``method="cdf"`` (inverse CDF, one uniform per row) and ``method="gumbel"``
(Gumbel-max: argmax of logits plus Gumbel noise, one uniform per row and token).
``Sampler.draw_shape(vocab)`` says which; temperature 0 is greedy (argmax) in both.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from kerasmusic.errors import KerasMusicError

_TINY = 1e-12


@dataclasses.dataclass(frozen=True)
class Sampler:
    """How to pick a token from a distribution.

    Args:
        temperature: 0 picks the most likely token (greedy); 1 samples the
            model's distribution; lower is more conservative, higher more random.
        top_k: if set, sample only among the ``top_k`` most likely tokens.
        top_p: if set (0 < top_p <= 1), sample only from the smallest set of most
            likely tokens whose probabilities add up to at least ``top_p``.
        method: ``"cdf"`` (inverse CDF) or ``"gumbel"`` (Gumbel-max); see the module.
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    method: str = "cdf"

    @classmethod
    def greedy(cls) -> Sampler:
        """Always the most likely token."""
        return cls(temperature=0.0)

    def draw_shape(self, vocab: int) -> tuple[int, ...]:
        """Uniform draws needed per row beyond the batch axis: () for cdf, (vocab,) for gumbel."""
        return (int(vocab),) if self.method == "gumbel" else ()

    def __post_init__(self):
        if self.temperature < 0:
            raise KerasMusicError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise KerasMusicError(f"top_k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise KerasMusicError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.method not in ("cdf", "gumbel"):
            raise KerasMusicError(f"method must be 'cdf' or 'gumbel', got {self.method!r}")

    def __call__(self, probs, uniform, *, from_logits: bool = False):
        """Token ids (batch,) from ``probs`` (batch, vocab) and ``uniform`` (batch, *draw_shape)."""
        return sample(probs, uniform, self.temperature, self.top_k, self.top_p,
                      from_logits=from_logits, method=self.method)


def filter_logits(logits, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None):
    """Scale ``logits`` by 1/temperature and set tokens outside top-k / top-p to -inf."""
    logits = tf.convert_to_tensor(logits, tf.float32)
    if temperature > 0:
        logits = logits / temperature
    neg_inf = tf.fill(tf.shape(logits), float("-inf"))
    if top_k is not None:
        k = min(int(top_k), logits.shape[-1]) if logits.shape[-1] else int(top_k)
        kth = tf.math.top_k(logits, k=k).values[..., -1:]
        logits = tf.where(logits < kth, neg_inf, logits)
    if top_p is not None:
        sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
        sorted_probs = tf.nn.softmax(sorted_logits, axis=-1)
        mass_before = tf.cumsum(sorted_probs, axis=-1, exclusive=True)
        # Keep a token while the mass of the tokens before it is still short of top_p.
        kept = tf.where(mass_before < top_p, sorted_logits, tf.fill(tf.shape(sorted_logits),
                                                                     float("inf")))
        cutoff = tf.reduce_min(kept, axis=-1, keepdims=True)
        logits = tf.where(logits < cutoff, neg_inf, logits)
    return logits


def sample(probs, uniform, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, *, from_logits: bool = False, method: str = "cdf"):
    """Pick one token per row with the given uniform draws.

    Args:
        probs: (batch, vocab) probabilities (or logits with ``from_logits``).
        uniform: draws in [0, 1), e.g. from :func:`draw_uniforms`: (batch,) for
            ``method="cdf"``, (batch, vocab) for ``method="gumbel"``.
        temperature: 0 means argmax; see :class:`Sampler`.
        top_k: keep only the k most likely tokens.
        top_p: keep only the nucleus of mass ``top_p``.
        method: ``"cdf"`` (inverse CDF) or ``"gumbel"`` (Gumbel-max).

    Returns:
        int32 token ids of shape (batch,).
    """
    logits = tf.convert_to_tensor(probs, tf.float32)
    if not from_logits:
        logits = tf.math.log(logits + _TINY)
    if temperature == 0:
        return tf.cast(tf.argmax(logits, axis=-1), tf.int32)
    logits = filter_logits(logits, temperature, top_k, top_p)
    if method == "gumbel":
        u = tf.clip_by_value(tf.cast(uniform, tf.float32), _TINY, 1.0 - 1e-7)
        return tf.cast(tf.argmax(logits - tf.math.log(-tf.math.log(u)), axis=-1), tf.int32)
    cdf = tf.cumsum(tf.nn.softmax(logits, axis=-1), axis=-1)
    target = tf.cast(uniform, tf.float32)[:, None] * cdf[:, -1:]
    token = tf.reduce_sum(tf.cast(cdf <= target, tf.int32), axis=-1)
    return tf.minimum(token, tf.shape(cdf)[-1] - 1)


def draw_uniforms(seed: int, shape) -> np.ndarray:
    """Uniform [0, 1) float32 draws fixed by ``seed`` (NumPy's PCG64: same on every machine)."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)
