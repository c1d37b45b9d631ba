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

from kerasmusic.errors import InvalidArgumentError
from kerasmusic.validation import check

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

    A compiled generation loop is traced once per :attr:`kind` (the method, and
    whether top-k / top-p filter) and takes the numbers, :attr:`values`, as a tensor:
    another temperature, ``top_k`` or ``top_p`` reuses the traced loop.
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

    @property
    def kind(self) -> tuple[str, bool, bool]:
        """What a compiled loop is traced for: (method, top-k set, top-p set)."""
        return (self.method, self.top_k is not None, self.top_p is not None)

    @property
    def values(self) -> np.ndarray:
        """float32 [temperature, top_k, top_p] (0 and 1 where unset): a compiled loop's input."""
        return np.array([self.temperature, self.top_k or 0, 1.0 if self.top_p is None
                         else self.top_p], np.float32)

    def __post_init__(self):
        check("temperature", self.temperature, minimum=0)
        check("top_k", self.top_k, minimum=1, integer=True, optional=True)
        check("top_p", self.top_p, above=0, maximum=1, optional=True)
        if self.method not in ("cdf", "gumbel"):
            raise InvalidArgumentError(f"method must be 'cdf' or 'gumbel', got {self.method!r}")

    def __call__(self, probs, uniform, *, from_logits: bool = False, values=None):
        """Token ids (batch,) from ``probs`` (batch, vocab) and ``uniform`` (batch, *draw_shape).

        ``values`` (a float32 tensor like :attr:`values`) replaces this sampler's numbers,
        as a compiled loop passes them.
        """
        return _sample(probs, uniform, self.values if values is None else values, self.kind,
                       from_logits)


def _filter(logits, values, kind):
    """Scale by 1/temperature (unless 0) and set the tokens outside top-k / top-p to -inf."""
    _, has_top_k, has_top_p = kind
    values = tf.cast(values, tf.float32)
    temperature = values[0]
    logits = logits / tf.where(temperature > 0, temperature, 1.0)
    neg_inf = tf.fill(tf.shape(logits), float("-inf"))
    if has_top_k:
        k = tf.clip_by_value(tf.cast(values[1], tf.int32), 1, tf.shape(logits)[-1])
        descending = tf.sort(logits, axis=-1, direction="DESCENDING")
        kth = tf.gather(descending, k - 1, axis=-1)[..., None]
        logits = tf.where(logits < kth, neg_inf, logits)
    if has_top_p:
        sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
        sorted_probs = tf.nn.softmax(sorted_logits, axis=-1)
        mass_before = tf.cumsum(sorted_probs, axis=-1, exclusive=True)
        # Keep a token while the mass of the tokens before it is still short of top_p.
        kept = tf.where(mass_before < values[2], sorted_logits,
                        tf.fill(tf.shape(sorted_logits), float("inf")))
        cutoff = tf.reduce_min(kept, axis=-1, keepdims=True)
        logits = tf.where(logits < cutoff, neg_inf, logits)
    return logits


def _sample(probs, uniform, values, kind, from_logits: bool):
    """Token ids (batch,): greedy where the temperature is 0, else drawn with ``uniform``."""
    logits = tf.convert_to_tensor(probs, tf.float32)
    if not from_logits:
        logits = tf.math.log(logits + _TINY)
    greedy = tf.cast(tf.argmax(logits, axis=-1), tf.int32)
    logits = _filter(logits, values, kind)
    if kind[0] == "gumbel":
        u = tf.clip_by_value(tf.cast(uniform, tf.float32), _TINY, 1.0 - 1e-7)
        token = tf.cast(tf.argmax(logits - tf.math.log(-tf.math.log(u)), axis=-1), tf.int32)
    else:
        cdf = tf.cumsum(tf.nn.softmax(logits, axis=-1), axis=-1)
        target = tf.cast(uniform, tf.float32)[:, None] * cdf[:, -1:]
        token = tf.reduce_sum(tf.cast(cdf <= target, tf.int32), axis=-1)
        token = tf.minimum(token, tf.shape(cdf)[-1] - 1)
    return tf.where(tf.cast(values, tf.float32)[0] > 0, token, greedy)


def filter_logits(logits, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None):
    """Scale ``logits`` by 1/temperature and set tokens outside top-k / top-p to -inf."""
    sampler = Sampler(temperature, top_k, top_p)
    return _filter(tf.convert_to_tensor(logits, tf.float32), sampler.values, sampler.kind)


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
    return Sampler(temperature, top_k, top_p, method)(probs, uniform, from_logits=from_logits)


def draw_uniforms(seed: int, shape) -> np.ndarray:
    """Uniform [0, 1) float32 draws fixed by ``seed`` (NumPy's PCG64: same on every machine)."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)
