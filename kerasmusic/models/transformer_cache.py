"""A key/value cache for generating with a Music Transformer, one new step at a time.

Re-running the whole model for every new token costs O(L^2 D) per layer at length
L; with the keys and values of the earlier steps kept, a new step costs O(L D): its
query, key and value, one row of attention logits, and the feed-forward layers of one
position. :class:`TransformerStepper` runs a model from
:func:`~kerasmusic.build_music_transformer` that way, with the model's own layers and
weights (nothing is copied: train the model further and the stepper follows).

The cache is a tuple with one ``(keys, values)`` pair per block, each of shape
``(batch, n_heads, max_len, key_dim)`` in the layer's compute dtype: static shapes,
written in place at the step's index, so a step traces once inside ``tf.function``
and ``tf.while_loop`` (with or without XLA) for every index.

The relative logits of one query ``q`` at position ``i`` against the cached keys
``j <= i`` are ``q . E_r[max_len - 1 - (i - j)]``: one product ``q E_r^T`` (one row,
``max_len`` entries per head) gathered at ``max_len - 1 - i + j``. No skewing is
needed for a single query; the prompt (:meth:`TransformerStepper.prefill`) runs
through the layer's own skewed computation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import ops

from kerasmusic.errors import InvalidArgumentError
from kerasmusic.models.music_transformer import PositionEmbedding, RelativeCausalSelfAttention
from kerasmusic.validation import check_count


class _CachedAttention(keras.layers.Layer):
    """One attention layer's :meth:`project` and :meth:`attend` against a cache.

    A layer of its own only so that Keras reads the attention's weights in its compute
    dtype (under mixed_float16 a layer casts its float32 variables inside ``__call__``
    only), exactly as the model does. Never saved.
    """

    def __init__(self, attention: RelativeCausalSelfAttention):
        super().__init__(dtype=attention.dtype_policy, name=f"{attention.name}_cached")
        self.attention = attention
        self.built = True

    def call(self, inputs, keys, values, index=None):
        """``inputs`` (B, T, d_model) at positions ``0..T-1`` (``index`` None: the prompt)
        or one step at ``index`` (T = 1) -> (output, keys, values)."""
        layer = self.attention
        q, k, v = layer.project(inputs)
        start = 0 if index is None else index
        keys = ops.slice_update(keys, (0, 0, start, 0), _heads_first(k))
        values = ops.slice_update(values, (0, 0, start, 0), _heads_first(v))
        if index is None:  # the prompt: the layer's own causal pass over 0..T-1
            steps = ops.arange(ops.shape(inputs)[1])
            mask = ops.expand_dims(steps, 1) >= ops.expand_dims(steps, 0)
            bias = layer.relative_logits(q) if layer.relative else None
            return layer.attend(q, k, v, bias, mask, training=False), keys, values
        positions = ops.arange(layer.max_len, dtype="int32")
        mask = ops.expand_dims(positions <= index, 0)  # (1, max_len): keys 0..index
        bias = None
        if layer.relative:
            # rel[..., m] = q . E_r[m], the distance max_len - 1 - m back; key j is
            # index - j back: row max_len - 1 - index + j (clipped rows are masked).
            rel = ops.einsum("bthk,hmk->bhtm", q, layer.relative_embedding)
            rows = ops.clip(positions + (layer.max_len - 1 - index), 0, layer.max_len - 1)
            bias = ops.take(rel, rows, axis=-1)
        # attend() reads (B, T, H, K); the transposes of the (B, H, T, K) cache cancel
        # against the ones its einsums make (measured: 2.5x faster steps at batch 16
        # than a (B, T, H, K) cache, which XLA copied twice per layer and step).
        outputs = layer.attend(q, _heads_first(keys), _heads_first(values), bias, mask,
                               training=False)
        return outputs, keys, values


def _heads_first(x):
    """(B, T, H, K) <-> (B, H, T, K)."""
    return ops.transpose(x, (0, 2, 1, 3))


def _layer(model: keras.Model, name: str, kind: type | None = None):
    try:
        layer = model.get_layer(name)
    except ValueError:
        layer = None
    if layer is None or (kind is not None and not isinstance(layer, kind)):
        raise InvalidArgumentError(
            f"model {model.name!r} is not a Music Transformer from build_music_transformer: "
            f"no {kind.__name__ + ' ' if kind else ''}layer named {name!r}")
    return layer


def _has_layer(model: keras.Model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)


class TransformerStepper:
    """Generation with a key/value cache for a model from :func:`build_music_transformer`.

    Args:
        model: a Music Transformer (:func:`~kerasmusic.build_music_transformer`,
            :func:`~kerasmusic.note_duration_transformer`, or one loaded back).

    Raises:
        InvalidArgumentError: ``model`` is not such a model (the message names the
            missing layer).

    Attributes:
        max_len: the longest sequence the model reads; the cache holds that many steps.
        n_streams: the number of input streams (and heads).

    Example:
    ```python
    stepper = TransformerStepper(model)
    cache = stepper.empty_cache(batch_size=2)
    probs, cache = stepper.prefill([prompt], cache)        # prompt: (2, P) int32
    token = tf.argmax(probs[0], -1, output_type=tf.int32)  # the token at position P
    probs, cache = stepper.step([token], tf.constant(P), cache)
    ```
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise InvalidArgumentError(f"TransformerStepper needs a keras.Model from "
                                       f"build_music_transformer, got {type(model).__name__}")
        self.model = model
        self._final_norm = _layer(model, "final_norm")
        self._heads = [_layer(model, name, keras.layers.Dense) for name in model.output_names]
        self._embeddings = [_layer(model, f"{x.name}_embedding", keras.layers.Embedding)
                            for x in model.inputs]
        if len(self._embeddings) != len(self._heads):
            raise InvalidArgumentError(
                f"model {model.name!r} has {len(self._embeddings)} inputs and "
                f"{len(self._heads)} outputs; a Music Transformer has one of each per stream")
        self.n_streams = len(self._heads)
        self._event = _layer(model, "event_embedding") if self.n_streams > 1 else None
        self._positions = (_layer(model, "position_embedding", PositionEmbedding)
                           if _has_layer(model, "position_embedding") else None)
        self._blocks = []
        while _has_layer(model, f"block_{len(self._blocks)}_attention"):
            i = len(self._blocks)
            attention = _layer(model, f"block_{i}_attention", RelativeCausalSelfAttention)
            self._blocks.append(tuple(
                [_CachedAttention(attention)]
                + [_layer(model, f"block_{i}_{part}") for part in
                   ("attention_norm", "attention_residual", "ff_norm", "ff_hidden",
                    "ff_output", "ff_residual")]))
        if not self._blocks:
            _layer(model, "block_0_attention", RelativeCausalSelfAttention)  # raises
        lengths = {block[0].attention.max_len for block in self._blocks}
        if len(lengths) != 1:
            raise InvalidArgumentError(f"model {model.name!r}: its attention layers read "
                                       f"different max_len {sorted(lengths)}")
        self.max_len = lengths.pop()

    def empty_cache(self, batch_size: int | tf.Tensor) -> tuple:
        """Zeros for every block's keys and values: ``((keys, values), ...)`` with each of
        shape ``(batch_size, n_heads, max_len, key_dim)`` in the layer's compute dtype.

        ``batch_size`` is an int (static shapes) or a scalar tensor (a batch known only
        when the graph runs)."""
        if not tf.is_tensor(batch_size):
            check_count("batch_size", batch_size)
        cache = []
        for block in self._blocks:
            layer = block[0].attention
            shape = (batch_size, layer.num_heads, self.max_len, layer.key_dim)
            cache.append((tf.zeros(shape, layer.compute_dtype),
                          tf.zeros(shape, layer.compute_dtype)))
        return tuple(cache)

    def prefill(self, prompt_ids: Sequence[tf.Tensor], cache: tuple
                ) -> tuple[list[tf.Tensor], tuple]:
        """Run a prompt in one pass and write its keys and values into ``cache``.

        Args:
            prompt_ids: one ``(batch, P)`` int tensor per stream, ``1 <= P <= max_len``.
            cache: from :meth:`empty_cache` (its positions ``0..P-1`` are overwritten).

        Returns:
            The heads' float32 probabilities ``(batch, vocab)`` at the last prompt position
            (for the token at position ``P``), and the new cache.
        """
        ids = self._check_ids(prompt_ids, rank=2)
        length = ids[0].shape[1]
        if length is None or not 1 <= length <= self.max_len:
            raise InvalidArgumentError(f"the prompt must have between 1 and max_len="
                                       f"{self.max_len} steps (a static length), got {length}")
        x = self._embed(ids)
        if self._positions is not None:
            x = self._positions(x)
        with warnings.catch_warnings():
            # A one-step prompt is a softmax over one key: right, though Keras warns.
            warnings.filterwarnings("ignore", "You are using a softmax over axis -1")
            x, cache = self._blocks_pass(x, cache, None)
        return self._probabilities(x[:, -1:]), cache

    def step(self, token_ids: Sequence[tf.Tensor], index, cache: tuple
             ) -> tuple[list[tf.Tensor], tuple]:
        """One new step: the tokens at position ``index``, attending to ``0..index``.

        Args:
            token_ids: one ``(batch,)`` int tensor per stream.
            index: the tokens' position, a scalar int32 tensor (or int) in
                ``[0, max_len)``; a loop variable inside ``tf.while_loop`` is fine.
            cache: the cache holding positions ``0..index - 1``.

        Returns:
            The heads' float32 probabilities ``(batch, vocab)`` for the token at
            ``index + 1``, and the cache with position ``index`` written.
        """
        ids = [ops.expand_dims(t, 1) for t in self._check_ids(token_ids, rank=1)]
        index = tf.cast(index, tf.int32)
        x = self._embed(ids)
        if self._positions is not None:
            row = ops.take(self._positions.positions, ops.expand_dims(index, 0), axis=0)
            x = x + ops.cast(ops.expand_dims(row, 0), x.dtype)
        x, cache = self._blocks_pass(x, cache, index)
        return self._probabilities(x), cache

    def _check_ids(self, ids, rank: int) -> list[tf.Tensor]:
        ids = [ids] if tf.is_tensor(ids) or not isinstance(ids, Sequence) else list(ids)
        if len(ids) != self.n_streams:
            raise InvalidArgumentError(f"the model reads {self.n_streams} token streams, "
                                       f"got {len(ids)} id tensors")
        ids = [tf.convert_to_tensor(t, tf.int32) if not tf.is_tensor(t) else ops.cast(t, "int32")
               for t in ids]
        shapes = {tuple(t.shape) for t in ids}
        if any(len(s) != rank for s in shapes) or len(shapes) != 1:
            got = [tuple(t.shape) for t in ids]
            raise InvalidArgumentError(f"token ids must be one tensor of rank {rank} per "
                                       f"stream, all of one shape; got shapes {got}")
        return ids

    def _embed(self, ids: list[tf.Tensor]):
        embedded = [embedding(t) for embedding, t in zip(self._embeddings, ids)]
        return embedded[0] if self._event is None else self._event(embedded)

    def _blocks_pass(self, x, cache: tuple, index) -> tuple:
        new_cache = []
        for (attention, norm, residual, ff_norm, hidden, output, ff_residual), (keys, values) \
                in zip(self._blocks, cache, strict=True):
            h, keys, values = attention(norm(x), keys, values, index=index)
            x = residual([x, h])
            x = ff_residual([x, output(hidden(ff_norm(x)))])
            new_cache.append((keys, values))
        return x, tuple(new_cache)

    def _probabilities(self, x) -> list[tf.Tensor]:
        x = self._final_norm(x)
        return [head(x)[:, 0] for head in self._heads]
