"""Generating text with a character RNN from :func:`build_char_rnn`.

:func:`generate_char_ids` reads the priming characters in one pass, then runs one
compiled ``tf.function`` loop (XLA on CPU) that carries the LSTM state from
character to character: a step costs one LSTM cell update, whatever the length
of the text so far. :func:`generate_char_ids_reference` is the straightforward
loop that re-runs the whole model on the growing prefix for every character.
Both sample with :mod:`kerasmusic.sampling` from the same pre-drawn uniforms, so
for the same seed they choose the same characters (the tests check it).
:func:`generate_text` is the text-in, text-out entry point.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.text import CharEncoding
from kerasmusic.errors import KerasMusicError
from kerasmusic.generation.compiled import loop_cache, use_xla
from kerasmusic.models.char_rnn import CharRNNCore, check_char_encoding
from kerasmusic.sampling import Sampler, draw_uniforms
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


def _loops(model: keras.Model, core: CharRNNCore, sampler: Sampler, jit: bool):
    cache = loop_cache(model, _CACHE_ATTR)
    if "prime" not in cache:
        def prime(ids, labels):
            logits, state = core(ids, labels)
            return logits[:, -1], state

        cache["prime"] = tf.function(prime, reduce_retracing=True)
    # One loop per sampler kind: the length and the sampler's numbers are inputs.
    key = (sampler.kind, jit)
    if key not in cache:
        def loop(logits, state, labels, uniforms, values):
            n_chars = tf.shape(uniforms)[0]
            out = tf.TensorArray(tf.int32, size=n_chars)
            for i in tf.range(n_chars):
                token = sampler(logits, uniforms[i], from_logits=True, values=values)
                out = out.write(i, token)
                logits, state = core.step(token, labels, state)
            return tf.transpose(out.stack())

        cache[key] = tf.function(loop, jit_compile=jit, reduce_retracing=True)
    return cache["prime"], cache[key]


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
    prime, loop = _loops(model, core, sampler, use_xla(jit_compile))
    last = [None] * len(rows)
    states = [None] * len(rows)
    for length, idx in _groups(rows).items():
        ids = np.stack([rows[i] for i in idx])
        lab = None if labels is None else np.repeat(labels[idx, None], length, axis=1)
        logits, state = prime(tf.constant(ids), None if lab is None else tf.constant(lab))
        for j, i in enumerate(idx):
            last[i] = logits[j]
            states[i] = tuple(s[j] for s in state)
    logits = tf.stack(last)
    state = tuple(tf.stack(parts) for parts in zip(*states))
    uniforms = draw_uniforms(seed, (n_chars, len(rows), *sampler.draw_shape(core.vocab_size)))
    out = loop(logits, state, None if labels is None else tf.constant(labels),
               tf.constant(uniforms), tf.constant(sampler.values))
    return out.numpy()


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
    uniforms = draw_uniforms(seed, (n_chars, len(rows), *sampler.draw_shape(core.vocab_size)))
    forward = _forward(model, core)
    prefixes = [list(r) for r in rows]
    out = np.zeros((len(rows), n_chars), np.int32)
    groups = _groups(rows)
    for step in range(n_chars):
        for idx in groups.values():
            ids = np.array([prefixes[i] for i in idx], np.int32)
            inputs = ids if labels is None else [
                ids, np.repeat(labels[idx, None], ids.shape[1], axis=1)]
            logits = forward(inputs)[:, -1]
            tokens = sampler(logits, uniforms[step][idx], from_logits=True).numpy()
            for j, i in enumerate(idx):
                out[i, step] = tokens[j]
                prefixes[i].append(int(tokens[j]))
    return out


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
