"""One generation engine for every autoregressive model.

A model family plugs in with a :class:`Family`: two functions over its own state,

- ``start(inputs) -> (outputs, state)``: read the primer (a window of tokens, the LSTM
  states after the prime, a key/value cache after the prompt) and say what comes next;
- ``step(inputs, tokens, state, index) -> (outputs, state)``: take the tokens just drawn
  at generated position ``index`` and say what comes after them,

where ``outputs`` holds one tensor per head: what that head's draw reads (probabilities,
logits, or for a piano-roll's joint keys the context its output layer reads). The
engine owns everything else: the uniform draws made up front from the seed, drawing each
head's tokens (a :class:`Head`: :func:`categorical` samples with a
:class:`~kerasmusic.Sampler`, a family may bring its own draw), the end token and
stopping, the batch, and the two loops over the steps:

- :func:`run_compiled`: one ``tf.function`` (XLA on CPU) around a ``tf.while_loop``,
  kept on the model and traced once per family, head kinds and shapes (temperatures,
  top-k / top-p values, seeds and ``min_steps`` are its inputs);
- :func:`run_reference`: the plain eager Python loop, step by step. Given a family
  that recomputes everything from the tokens so far (the whole sequence through the
  model), it is the reference the compiled loop is tested against: fed the same seed
  both draw the same tokens.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.generation.compiled import loop_cache, use_xla
from kerasmusic.sampling import _TINY, Sampler, draw_uniforms

_CACHE_ATTR = "_kerasmusic_generation_loops"


class Family(Protocol):
    """How a model family generates: its model, its start and its step (see the module).

    ``key`` names everything the traced ``start`` / ``step`` depend on besides the model
    (a compiled loop is kept per model and key). ``static_shapes``: the family's start
    needs static input shapes (one trace per shape, no shape-generic trace).
    """

    model: keras.Model
    key: Hashable
    static_shapes: bool

    def start(self, inputs) -> tuple[list, Any]: ...

    def step(self, inputs, tokens: list, state, index) -> tuple[list, Any]: ...


@dataclasses.dataclass(frozen=True, eq=False)
class Head:
    """How one head's tokens are drawn at each step.

    Attributes:
        draw: ``draw(output, uniform, values, may_end) -> tokens``: the family's output
            for this head, this step's uniforms (batch, width), :attr:`values` (a tensor
            in the compiled loop) and whether a row may end now (``step >= min_steps``).
            Traced once per :attr:`kind`: everything else it reads must be in ``values``.
        width: uniform draws per row and step.
        values: the float32 numbers the draw reads (temperature...): a loop input.
        kind: what the compiled loop is traced for.
        dtype: the tokens' dtype.
    """

    draw: Callable
    width: int
    values: np.ndarray
    kind: Hashable
    dtype: tf.DType = tf.int32


def categorical(size: int, sampler: Sampler, *, from_logits: bool = False,
                exclude: Sequence[int] = (), end_id: int | None = None) -> Head:
    """A head that picks one of ``size`` tokens per row with ``sampler``.

    Args:
        size: the vocabulary.
        sampler: temperature, top-k / top-p, method.
        from_logits: the family's output is logits (else probabilities).
        exclude: ids never chosen (e.g. an unknown token's).
        end_id: the id that ends a piece: never chosen before ``min_steps``.
    """
    masked = bool(exclude) or end_id is not None
    keep = np.ones(size, np.float32)
    keep[list(exclude)] = 0.0
    values = np.concatenate([sampler.values, keep]) if masked else sampler.values
    gumbel = sampler.method == "gumbel"

    def draw(output, uniform, values, may_end):
        uniform = uniform if gumbel else uniform[:, 0]
        if not masked:
            return sampler(output, uniform, from_logits=from_logits, values=values)
        keep = values[3:]
        if end_id is not None:
            keep = keep * tf.where(tf.range(size) == end_id, tf.cast(may_end, tf.float32), 1.0)
        logits = tf.cast(output, tf.float32)
        if not from_logits:
            logits = tf.math.log(logits + _TINY)
        logits = tf.where(keep > 0, logits, tf.fill(tf.shape(logits), float("-inf")))
        return sampler(logits, uniform, from_logits=True, values=values[:3])

    return Head(draw, math.prod(sampler.draw_shape(size)) if gumbel else 1, values,
                ("categorical", size, sampler.kind, from_logits, masked, end_id))


class SlidingWindow:
    """The family of models that read the last ``seq_len`` tokens of every stream.

    The attention LSTM (two inputs, one per head) and the event LSTM (one input whose
    last axis holds the heads' tokens, ``stacked``). The state is the window: a step
    drops its oldest tokens and appends the new ones. The whole window goes through the
    model at every step, so this family is its own reference: with ``predict`` (for
    :func:`run_reference`) it calls ``model.predict``, the loop a user would write.
    """

    static_shapes = False

    def __init__(self, model: keras.Model, stacked: bool = False, predict: bool = False):
        self.model = model
        self.stacked = stacked
        self.key = ("window", stacked)
        self._call = (lambda x: model.predict(x, verbose=0)) if predict else (
            lambda x: model(x, training=False))

    def _predict(self, windows):
        outputs = self._call(windows[0] if self.stacked else list(windows))
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def start(self, inputs):
        windows = list(inputs)
        return self._predict(windows), windows

    def step(self, inputs, tokens, windows, index):
        new = [tf.stack(tokens, axis=-1)] if self.stacked else tokens
        windows = [tf.concat([w[:, 1:], tf.cast(t, w.dtype)[:, None]], axis=1)
                   for w, t in zip(windows, new)]
        return self._predict(windows), windows


def draws(seed: int, n_steps: int, batch_size: int, heads: Sequence[Head]) -> list[np.ndarray]:
    """The uniforms of every head, (n_steps, batch, width) each: one block split by widths."""
    widths = [h.width for h in heads]
    block = draw_uniforms(seed, (n_steps, batch_size, sum(widths)))
    edges = np.cumsum([0, *widths])
    return [block[..., a:b] for a, b in zip(edges[:-1], edges[1:])]


def _draw(heads, outputs, uniforms, values, may_end, done, end_ids, stop):
    """This step's tokens of every head, and which rows have ended.

    A row whose first head draws its end id gets every head's end id; with ``stop`` it
    keeps them from then on.
    """
    tokens = [h.draw(o, u, v, may_end) for h, o, u, v in zip(heads, outputs, uniforms, values)]
    if end_ids is None:
        return tokens, done
    ended = tf.logical_or(done, tf.equal(tokens[0], end_ids[0]))
    tokens = [tf.where(ended, tf.constant(e, t.dtype), t) for t, e in zip(tokens, end_ids)]
    return tokens, ended if stop else done


def _batch_major(stacked):
    """(steps, batch, ...) -> (batch, steps, ...)."""
    return tf.transpose(stacked, [1, 0, *range(2, stacked.shape.rank)])


def _tensors(structure):
    return tf.nest.map_structure(lambda x: x if x is None else tf.convert_to_tensor(x),
                                 structure)


def _signature(inputs, uniforms, values) -> list:
    """A static-shape family's loop signature: its inputs' exact shapes, any number of
    steps (so one trace serves every ``n_steps`` for one input shape)."""
    def spec(x):
        return None if x is None else tf.TensorSpec(x.shape, x.dtype)

    return [tf.nest.map_structure(spec, inputs),
            [tf.TensorSpec([None, *u.shape[1:]], u.dtype) for u in uniforms],
            [spec(v) for v in values], tf.TensorSpec([], tf.int32)]


def _compiled_loop(family: Family, heads, end_ids, stop: bool, jit: bool, args: list):
    key = (type(family).__qualname__, family.key, tuple(h.kind for h in heads), end_ids, stop,
           jit)
    signature = None
    if family.static_shapes:
        signature = _signature(*args[:3])
        key += (tuple(tuple(x.shape) for x in tf.nest.flatten(args[0])),)
    cache = loop_cache(family.model, _CACHE_ATTR)
    if key in cache:
        return cache[key]

    def loop(inputs, uniforms, values, min_steps):
        n_steps = tf.shape(uniforms[0])[0]
        outputs, state = family.start(inputs)
        arrays = [tf.TensorArray(h.dtype, size=n_steps) for h in heads]
        done = tf.zeros([tf.shape(uniforms[0])[1]], tf.bool)
        for i in tf.range(n_steps):
            tokens, done = _draw(heads, outputs, [u[i] for u in uniforms], values,
                                 i >= min_steps, done, end_ids, stop)
            arrays = [a.write(i, t) for a, t in zip(arrays, tokens)]
            if i + 1 < n_steps:  # no step after the last token
                outputs, state = family.step(inputs, tokens, state, i)
        return [_batch_major(a.stack()) for a in arrays]

    cache[key] = tf.function(loop, jit_compile=jit, input_signature=signature,
                             reduce_retracing=not family.static_shapes)
    return cache[key]


def run_compiled(family: Family, inputs, heads: Sequence[Head], n_steps: int, *,
                 batch_size: int, seed: int = 0, uniforms: Sequence[np.ndarray] | None = None,
                 end_ids: Sequence[int] | None = None, stop: bool = False, min_steps: int = 0,
                 jit_compile: bool | str = "auto") -> list[np.ndarray]:
    """Generate ``n_steps`` tokens per head and row in one compiled loop.

    Args:
        family: the model family (see the module).
        inputs: what ``family.start`` reads (arrays; None allowed inside).
        heads: one :class:`Head` per family output.
        n_steps: tokens to generate.
        batch_size: rows generated together.
        seed: fixes the draws (:func:`draws`), unless ``uniforms`` are given.
        uniforms: the draws, (n_steps, batch, width) per head.
        end_ids: one end id per head (scalar-token heads): a row whose first head draws
            its end id gets every head's end id at that step.
        stop: a row that ended keeps emitting end ids.
        min_steps: rows may not end (the heads' ``end_id``) before this step.
        jit_compile: XLA-compile the loop; "auto" does so when no GPU is visible.

    Returns:
        One array per head, (batch, n_steps, ...) tokens.
    """
    if uniforms is None:
        uniforms = draws(seed, n_steps, batch_size, heads)
    end_ids = None if end_ids is None else tuple(int(e) for e in end_ids)
    args = [_tensors(inputs), _tensors(list(uniforms)), _tensors([h.values for h in heads]),
            tf.constant(int(min_steps), tf.int32)]
    out = _compiled_loop(family, heads, end_ids, stop, use_xla(jit_compile), args)(*args)
    return [t.numpy() for t in out]


def run_reference(family: Family, inputs, heads: Sequence[Head], n_steps: int, *,
                  batch_size: int, seed: int = 0, uniforms: Sequence[np.ndarray] | None = None,
                  end_ids: Sequence[int] | None = None, stop: bool = False,
                  min_steps: int = 0) -> list[np.ndarray]:
    """:func:`run_compiled` as a plain eager Python loop, one step at a time.

    Same arguments and draws; with ``stop`` it ends once every row has. Run with a
    family that recomputes each step from all the tokens so far, it is the reference
    the compiled loop is tested and benchmarked against.
    """
    if uniforms is None:
        uniforms = draws(seed, n_steps, batch_size, heads)
    outputs, state = family.start(inputs)
    done = tf.zeros([batch_size], tf.bool)
    steps = []
    for i in range(n_steps):
        tokens, done = _draw(heads, outputs, [u[i] for u in uniforms],
                             [h.values for h in heads], tf.constant(i >= min_steps), done,
                             end_ids, stop)
        steps.append([np.asarray(t) for t in tokens])
        if stop and bool(tf.reduce_all(done)):
            break
        if i + 1 < n_steps:
            outputs, state = family.step(inputs, tokens, state, tf.constant(i, tf.int32))
    if len(steps) < n_steps:  # every row ended: the rest are end ids
        steps += [[np.full_like(t, e) for t, e in zip(steps[-1], end_ids)]] * (n_steps - len(steps))
    return [np.stack(head, axis=1) for head in zip(*steps)]
