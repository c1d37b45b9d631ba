"""Generating text with a character RNN from :func:`build_char_rnn`.

:func:`generate_char_ids` reads the priming characters in one pass, then runs the
engine's compiled loop (:mod:`kerasmusic.generation.engine`, XLA on CPU) that
carries the LSTM state from character to character: a step costs one LSTM cell
update, whatever the length of the text so far. :func:`generate_char_ids_reference`
is the engine's plain loop, re-running the whole model on the growing prefix for
every character. Both sample with :mod:`kerasmusic.sampling` from the same pre-drawn
uniforms, so for the same seed they choose the same characters (the tests check it).
:func:`generate_text` is the text-in, text-out entry point.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.text import CharEncoding
from kerasmusic.errors import KerasMusicError
from kerasmusic.generation.compiled import loop_cache
from kerasmusic.generation.engine import categorical, run_compiled, run_reference
from kerasmusic.models.char_rnn import CharRNNCore, check_char_encoding
from kerasmusic.sampling import Sampler
from kerasmusic.validation import check_count

_CACHE_ATTR = "_kerasmusic_char_loops"


def _rows(core: CharRNNCore, primes, label_ids) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Prime id rows (each non-empty, ids in range) and one label id per row (or None)."""
    if isinstance(primes, np.ndarray) and primes.ndim == 2:
        rows = list(primes)
    elif isinstance(primes, np.ndarray) and primes.ndim == 1:
        rows = [primes]
    else:
        rows = [np.asarray(p) for p in primes]
        if rows and rows[0].ndim == 0:  # a single flat list of ids
            rows = [np.asarray(primes)]
    rows = [np.asarray(r, np.int32).reshape(-1) for r in rows]
    if not rows or any(len(r) == 0 for r in rows):
        raise KerasMusicError("every prime needs at least one character to start from")
    for r in rows:  # XLA would read an out-of-range embedding row silently
        if r.min() < 0 or r.max() >= core.vocab_size:
            raise KerasMusicError(f"character ids must be in [0, {core.vocab_size}), got "
                                  f"{r.min()}..{r.max()}")
    if core.n_labels == 0:
        if label_ids is not None:
            raise KerasMusicError("label given, but the model is not conditional")
        return rows, None
    if label_ids is None:
        raise KerasMusicError("the model is conditional: give a label")
    labels = np.broadcast_to(np.asarray(label_ids, np.int32), (len(rows),)).copy()
    if labels.min() < 0 or labels.max() >= core.n_labels:
        raise KerasMusicError(f"label ids must be in [0, {core.n_labels}), got {labels}")
    return rows, labels


def _prime(model: keras.Model, core: CharRNNCore):
    """The priming pass: the whole prime through the LSTM stack, traced once for every length."""
    cache = loop_cache(model, _CACHE_ATTR)
    if "prime" not in cache:
        def prime(ids, labels):
            logits, state = core(ids, labels)
            return logits[:, -1], state

        cache["prime"] = tf.function(prime, reduce_retracing=True)
    return cache["prime"]


def _forward(model: keras.Model, core: CharRNNCore):
    """``model`` on whole sequences, traced once for every length (no retracing per prefix)."""
    cache = loop_cache(model, _CACHE_ATTR)
    if "forward" not in cache:
        spec = tf.TensorSpec([None, None], tf.int32)
        signature = [spec] if core.n_labels == 0 else [[spec, spec]]
        cache["forward"] = tf.function(lambda x: model(x, training=False),
                                       input_signature=signature)
    return cache["forward"]


def _groups(rows: list[np.ndarray]) -> dict[int, list[int]]:
    """Row indices by prime length: rows of one length run as one batch."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(len(r), []).append(i)
    return groups


class _Stateful:
    """The engine family of the compiled loop: the LSTM state carried from step to step.

    Its inputs are the primed rows' last logits, their states and the label ids (or None).
    """

    key = None
    static_shapes = False

    def __init__(self, model: keras.Model, core: CharRNNCore):
        self.model, self.core = model, core

    def start(self, inputs):
        logits, state, _ = inputs
        return [logits], state

    def step(self, inputs, tokens, state, index):
        logits, state = self.core.step(tokens[0], inputs[2], state)
        return [logits], state


class _Prefixes:
    """The engine family of the reference loop: the whole model on every row's prefix.

    Its inputs are the prime rows and the label ids (or None); the state is the prefixes.
    """

    def __init__(self, model: keras.Model, core: CharRNNCore):
        self.forward, self.core = _forward(model, core), core

    def _logits(self, prefixes, labels):
        logits = [None] * len(prefixes)
        for idx in _groups(prefixes).values():
            ids = np.array([prefixes[i] for i in idx], np.int32)
            inputs = ids if labels is None else [
                ids, np.repeat(labels[idx, None], ids.shape[1], axis=1)]
            for j, row in zip(idx, self.forward(inputs)[:, -1]):
                logits[j] = row
        return [tf.stack(logits)]

    def start(self, inputs):
        prefixes = [list(r) for r in inputs[0]]
        return self._logits(prefixes, inputs[1]), prefixes

    def step(self, inputs, tokens, prefixes, index):
        prefixes = [p + [int(t)] for p, t in zip(prefixes, np.asarray(tokens[0]))]
        return self._logits(prefixes, inputs[1]), prefixes


def generate_char_ids(
    model: keras.Model,
    primes,
    n_chars: int,
    *,
    label_ids=None,
    sampler: Sampler = Sampler(0.5),
    seed: int = 0,
    jit_compile: bool | str = "auto",
) -> np.ndarray:
    """Sample ``n_chars`` character ids after each prime, the LSTM state carried step by step.

    Args:
        model: a :func:`build_char_rnn` model.
        primes: (batch, length) ids, or a list of id sequences (lengths may differ).
        n_chars: characters to generate per row.
        label_ids: for a conditional model: one label id, or one per row.
        sampler: how to pick each character (temperature, top-k, top-p, Gumbel, greedy).
        seed: fixes the random draws; same seed, same output.
        jit_compile: XLA-compile the loop; "auto" does so when no GPU is visible.

    Returns:
        int32 ids of shape (batch, n_chars).
    """
    core = CharRNNCore(model)
    rows, labels = _rows(core, primes, label_ids)
    check_count("n_chars", n_chars)
    prime = _prime(model, core)
    last = [None] * len(rows)
    states = [None] * len(rows)
    for length, idx in _groups(rows).items():
        ids = np.stack([rows[i] for i in idx])
        lab = None if labels is None else np.repeat(labels[idx, None], length, axis=1)
        logits, state = prime(tf.constant(ids), None if lab is None else tf.constant(lab))
        for j, i in enumerate(idx):
            last[i] = logits[j]
            states[i] = tuple(s[j] for s in state)
    inputs = (tf.stack(last), tuple(tf.stack(parts) for parts in zip(*states)), labels)
    return run_compiled(_Stateful(model, core), inputs, [categorical(
        core.vocab_size, sampler, from_logits=True)], n_chars, batch_size=len(rows), seed=seed,
        jit_compile=jit_compile)[0]


def generate_char_ids_reference(
    model: keras.Model,
    primes,
    n_chars: int,
    *,
    label_ids=None,
    sampler: Sampler = Sampler(0.5),
    seed: int = 0,
) -> np.ndarray:
    """The straightforward loop: run the model on the whole prefix for every new character.

    Same arguments and result as :func:`generate_char_ids` (the same characters for
    the same seed); its cost grows with the square of the text length. The model call
    is a ``tf.function`` traced once for all lengths, so a benchmark against
    :func:`generate_char_ids` compares graph with graph. Kept as the reference the
    compiled loop is tested and benchmarked against.
    """
    core = CharRNNCore(model)
    rows, labels = _rows(core, primes, label_ids)
    check_count("n_chars", n_chars)
    return run_reference(_Prefixes(model, core), (rows, labels), [categorical(
        core.vocab_size, sampler, from_logits=True)], n_chars, batch_size=len(rows),
        seed=seed)[0]


def generate_text(
    model: keras.Model,
    encoding: CharEncoding,
    prime: str | Sequence[str] = "",
    n_chars: int = 200,
    *,
    temperature: float = 0.5,
    top_k: int | None = None,
    top_p: float | None = None,
    method: str = "cdf",
    sampler: Sampler | None = None,
    n_samples: int = 1,
    label: str | Sequence[str] | None = None,
    seed: int = 0,
    from_start: bool = True,
    include_prime: bool = True,
    stop_at_end: bool = False,
) -> list[str]:
    """Generate text with a trained character RNN.

    Args:
        model: a :func:`build_char_rnn` model trained with ``encoding``.
        encoding: its :class:`CharEncoding`.
        prime: the text to continue (e.g. ``"Why"``), or a list of primes, one per sample.
        n_chars: characters to generate after the prime.
        temperature: 0 picks the likeliest character; 1 samples the model's distribution.
        top_k: sample among the k likeliest characters only.
        top_p: sample from the nucleus of probability mass ``top_p`` only.
        method: ``"cdf"`` or ``"gumbel"`` (Gumbel-max); same distribution.
        sampler: a :class:`Sampler` instead of the four arguments above.
        n_samples: texts generated (in one batch) from a single string prime.
        label: for a conditional model: the label (e.g. an artist), or one per sample
            (a list of labels with a single string prime makes one sample per label).
        seed: fixes the random draws.
        from_start: read the document separator before the prime, so the text starts
            as a new document does (and an empty prime works).
        include_prime: start each returned text with its prime.
        stop_at_end: cut each text where the model ends the document (at the separator).

    Returns:
        One string per sample.

    Raises:
        UnknownCharactersError: the prime has characters outside the vocabulary.
        UnknownLabelError: the label was not seen in training.
    """
    check_char_encoding(model, encoding)
    if isinstance(prime, str) and not isinstance(label, (str, type(None))) and n_samples == 1:
        n_samples = len(label)  # one sample per label
    check_count("n_samples", n_samples)
    check_count("n_chars", n_chars)
    primes = [prime] * n_samples if isinstance(prime, str) else list(prime)
    if not primes:
        raise KerasMusicError("nothing to generate: give at least one prime")
    start = encoding.separator if from_start else ""
    rows = [encoding.encode(start + p, where=f"the prime {p!r}") for p in primes]
    if any(len(r) == 0 for r in rows):
        raise KerasMusicError("an empty prime needs from_start=True")
    label_ids = None
    if label is not None:
        labels = [label] * len(rows) if isinstance(label, str) else list(label)
        if len(labels) != len(rows):
            raise KerasMusicError(f"{len(labels)} labels for {len(rows)} samples")
        label_ids = [encoding.label_id(x) for x in labels]
    elif encoding.labels is not None:
        raise KerasMusicError("the model is conditional: give label= one of "
                              f"{encoding.labels.tokens[:20]}")
    sampler = sampler or Sampler(temperature, top_k, top_p, method)
    ids = generate_char_ids(model, rows, n_chars, label_ids=label_ids, sampler=sampler,
                            seed=seed)
    texts = []
    for p, row in zip(primes, ids):
        text = encoding.decode(row)
        if stop_at_end and encoding.separator in text:
            text = text[:text.index(encoding.separator)]
        texts.append((p if include_prime else "") + text)
    return texts
