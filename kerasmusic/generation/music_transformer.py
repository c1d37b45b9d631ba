"""Generating token ids with a model from :func:`build_music_transformer`.

:func:`generate_sequence` continues a prompt on the engine
(:mod:`kerasmusic.generation.engine`) through a *stepper*, an object that reads the
prompt (``prefill``) and then one token per step (``step``):

- ``use_cache=True``: :class:`~kerasmusic.models.transformer_cache.TransformerStepper`,
  whose per-layer key/value cache makes a step cost one new position;
- ``use_cache=False``: :class:`ReforwardStepper`, the whole model on the sequence so far
  at every step. The sequence is padded to the model's ``max_len`` so the loop compiles
  once; causal attention never lets a position see the padding after it.

:func:`generate_sequence_reference` is the engine's plain Python loop on the unpadded
sequence; for the same seed all three choose the same tokens (the tests check it).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.errors import InvalidArgumentError, KerasMusicError
from kerasmusic.generation.engine import categorical, run_compiled, run_reference
from kerasmusic.models.music_transformer import PositionEmbedding, RelativeCausalSelfAttention
from kerasmusic.models.transformer_cache import TransformerStepper
from kerasmusic.sampling import Sampler
from kerasmusic.validation import check, check_count


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _max_len(model: keras.Model) -> int:
    """The longest sequence ``model`` reads; refuses a model without the Transformer's layers."""
    lengths = [layer.max_len for layer in model.layers
               if isinstance(layer, (RelativeCausalSelfAttention, PositionEmbedding))]
    if not lengths:
        raise KerasMusicError(f"model {model.name!r} is not a Music Transformer from "
                              "build_music_transformer")
    return min(lengths)


class ReforwardStepper:
    """The stepper interface without a cache: every step runs the whole model again.

    Its "cache" holds each stream's tokens so far, padded to ``max_len``: one
    (batch, max_len) int32 tensor per stream, so every step has the same shapes.

    Args:
        model: a model from :func:`build_music_transformer`.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.max_len = _max_len(model)
        self.n_streams = len(model.inputs)

    def empty_cache(self, batch_size) -> tuple:
        """All-zero token buffers for ``batch_size`` rows."""
        return tuple(tf.zeros([batch_size, self.max_len], tf.int32)
                     for _ in range(self.n_streams))

    def _probs_at(self, buffers, index) -> list:
        outputs = self.model(buffers[0] if self.n_streams == 1 else list(buffers),
                             training=False)
        return [tf.gather(o, index, axis=1) for o in _as_list(outputs)]

    def prefill(self, prompt_ids, cache):
        """The prompts (batch, P) per stream into the buffers; probabilities after position P-1."""
        length = tf.shape(prompt_ids[0])[1]
        buffers = tuple(tf.ensure_shape(tf.concat([tf.cast(p, tf.int32), c[:, length:]], axis=1),
                                        c.shape) for p, c in zip(prompt_ids, cache))
        return self._probs_at(buffers, length - 1), buffers

    def step(self, token_ids, index, cache):
        """Each stream's token (batch,) at position ``index``; probabilities after it."""
        at = tf.range(self.max_len)[None, :] == index
        buffers = tuple(tf.where(at, tf.cast(t, tf.int32)[:, None], c)
                        for t, c in zip(token_ids, cache))
        return self._probs_at(buffers, index), buffers


class _Stepping:
    """The engine family of the compiled loop: a stepper, the prompt its input."""

    static_shapes = True  # a key/value cache's prefill wants the prompt's length

    def __init__(self, model: keras.Model, stepper):
        self.model, self.stepper = model, stepper
        self.key = (type(stepper).__module__, type(stepper).__qualname__)

    def start(self, prompts):
        batch = prompts[0].shape[0]
        cache = self.stepper.empty_cache(tf.shape(prompts[0])[0] if batch is None else batch)
        return self.stepper.prefill(list(prompts), cache)

    def step(self, prompts, tokens, cache, index):
        return self.stepper.step(tokens, tf.shape(prompts[0])[1] + index, cache)


class _Sequences:
    """The engine family of the reference loop: the model on the whole sequence so far."""

    def __init__(self, model: keras.Model):
        self.model = model

    def _last(self, sequences) -> list:
        outputs = self.model(sequences[0] if len(sequences) == 1 else sequences, training=False)
        return [o[:, -1] for o in _as_list(outputs)]

    def start(self, prompts):
        sequences = [tf.constant(p) for p in prompts]
        return self._last(sequences), sequences

    def step(self, prompts, tokens, sequences, index):
        sequences = [tf.concat([s, t[:, None]], axis=1) for s, t in zip(sequences, tokens)]
        return self._last(sequences), sequences


def _setup(model, prompt_ids, n_tokens, sampler, seed, end_id=None) -> dict:
    """Checked arguments -> the engine's (both loops)."""
    max_len = _max_len(model)
    if len(model.inputs) != 1 or len(model.outputs[0].shape) != 3:
        raise KerasMusicError(
            f"generate_sequence needs a single-stream model from build_music_transformer "
            f"(one input, one output of shape (batch, time, vocab)); model {model.name!r} has "
            f"{len(model.inputs)} inputs and outputs of shape "
            f"{[tuple(o.shape) for o in model.outputs]}")
    vocab = int(model.outputs[0].shape[-1])
    prompt = np.asarray(prompt_ids)
    if prompt.ndim != 2 or prompt.shape[0] == 0 or prompt.shape[1] == 0:
        raise InvalidArgumentError(f"prompt_ids must be a (batch, prompt_len) array with at "
                                   f"least one row and one token, got shape {prompt.shape}")
    if not np.issubdtype(prompt.dtype, np.integer):
        raise InvalidArgumentError(f"prompt_ids must be integer token ids, got {prompt.dtype}")
    if prompt.min() < 0 or prompt.max() >= vocab:  # XLA would read a wrong embedding row
        raise InvalidArgumentError(f"prompt_ids must be in [0, {vocab}), got "
                                   f"{prompt.min()}..{prompt.max()}")
    check_count("n_tokens", n_tokens)
    check("seed", seed, minimum=0, integer=True)
    if not isinstance(sampler, Sampler):
        raise InvalidArgumentError(f"sampler must be a kerasmusic.Sampler, got {sampler!r}")
    if prompt.shape[1] + n_tokens > max_len:
        raise InvalidArgumentError(
            f"prompt_len + n_tokens = {prompt.shape[1]} + {n_tokens} = "
            f"{prompt.shape[1] + n_tokens} is more than the model's max_len={max_len}: "
            "shorten the prompt or generate fewer tokens")
    if end_id is not None:
        check("end_id", end_id, minimum=0, maximum=vocab - 1, integer=True)
    return dict(inputs=(prompt.astype(np.int32),), heads=[categorical(vocab, sampler)],
                n_steps=n_tokens, batch_size=prompt.shape[0], seed=seed,
                end_ids=None if end_id is None else (int(end_id),), stop=end_id is not None)


def generate_sequence(
    model: keras.Model,
    prompt_ids,
    n_tokens: int,
    *,
    use_cache: bool = True,
    sampler: Sampler = Sampler(1.0),
    seed: int = 0,
    end_id: int | None = None,
    jit_compile: bool | str = "auto",
    _stepper_factory=None,
) -> np.ndarray:
    """Continue each prompt with ``n_tokens`` tokens sampled from a Music Transformer.

    Args:
        model: a single-stream model from :func:`build_music_transformer`.
        prompt_ids: int token ids of shape (batch, prompt_len), prompt_len >= 1; every
            row is continued (one batch).
        n_tokens: tokens to generate per row; ``prompt_len + n_tokens`` may not exceed
            the model's ``max_len``.
        use_cache: step with a per-layer key/value cache (one position per token);
            False runs the whole model on the sequence so far for every token (the
            same tokens, slower).
        sampler: how to pick each token (temperature, top-k, top-p, Gumbel, greedy).
        seed: fixes the draws; same seed, same tokens.
        end_id: the token that ends a row (e.g. ``<end>``): once a row draws it, the
            rest of that row is ``end_id``; the tokens before it are the ones drawn
            without ``end_id`` (the draws are made up front from the seed).
        jit_compile: XLA-compile the loop; "auto" does so when no GPU is visible.

    Returns:
        int32 token ids of shape (batch, n_tokens), the prompt not included.

    Raises:
        InvalidArgumentError: a bad prompt, count, seed or sampler, or a sequence longer
            than ``max_len``.
        KerasMusicError: the model is not a single-stream Music Transformer.
    """
    setup = _setup(model, prompt_ids, n_tokens, sampler, seed, end_id)
    if not use_cache:
        stepper = ReforwardStepper(model)
    elif _stepper_factory is not None:  # tests plug a stand-in stepper in here
        stepper = _stepper_factory(model)
    else:
        stepper = TransformerStepper(model)
    return run_compiled(_Stepping(model, stepper), **setup, jit_compile=jit_compile)[0]


def generate_sequence_reference(
    model: keras.Model,
    prompt_ids,
    n_tokens: int,
    *,
    sampler: Sampler = Sampler(1.0),
    seed: int = 0,
    end_id: int | None = None,
) -> np.ndarray:
    """The plain loop: the model run eagerly on the whole sequence so far, for every token.

    Same arguments (but the cache) and result as :func:`generate_sequence`, and the same
    tokens for the same seed; kept as the reference it is tested against.
    """
    setup = _setup(model, prompt_ids, n_tokens, sampler, seed, end_id)
    return run_reference(_Sequences(model), **setup)[0]
