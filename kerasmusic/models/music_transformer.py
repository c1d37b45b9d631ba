"""The Music Transformer: a decoder-only Transformer with relative attention.

Huang et al. 2018 ("Music Transformer") add to each attention logit a term that
depends only on the distance between query and key: ``q_i . E_r[j - i]``, with a
learned table ``E_r`` of one row per distance. Computing it as a gather would need
an (L, L, D) tensor per head; the paper's "skewing" gets the same numbers from the
(L, L) product ``Q E_r^T``: pad one column on the left, reshape to (L + 1, L), drop
the first row (:func:`skew`). Extra memory O(L D), not O(L^2 D).

:func:`build_music_transformer` makes a functional model of registered layers (it
loads with ``safe_mode=True``, from ``.keras`` and ``.h5``, and exports as a
SavedModel): token embeddings (one per input stream, summed), an optional learned
absolute position embedding, ``n_layers`` pre-norm blocks (causal relative
self-attention, then a GELU feed-forward layer, each with a residual), a final layer
norm and one float32 softmax head per stream. It predicts the next token after every
step; :func:`last_step_model` shares its layers and predicts only after the last,
which is the interface of the attention LSTM (a window in, the next event out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import ops

from kerasmusic.errors import KerasMusicError
from kerasmusic.models.layers import register
from kerasmusic.validation import check_count, check_learning_rate, check_positive, check_rate

#: Logit given to the masked (future) keys; finite, so a row never becomes NaN.
_MASKED = -1e9


def skew(rel_logits):
    """Relative logits indexed by distance -> indexed by key position (the "skewing").

    Args:
        rel_logits: ``(..., L, L)``; entry ``[i, m]`` is ``q_i . E[m]``, where row ``m``
            of ``E`` belongs to the distance ``m - (L - 1)`` (the last row: distance 0).

    Returns:
        ``(..., L, L)`` whose entry ``[i, j]`` is ``q_i . E[L - 1 + j - i]`` for every
        ``j <= i``. Entries above the diagonal hold other values: the causal mask
        removes them.
    """
    shape = ops.shape(rel_logits)
    length = shape[-1]
    pad = [[0, 0]] * (len(rel_logits.shape) - 1) + [[1, 0]]
    padded = ops.pad(rel_logits, pad)
    padded = ops.reshape(padded, (*shape[:-2], length + 1, length))
    return padded[..., 1:, :]


@register
class RelativeCausalSelfAttention(keras.layers.Layer):
    """Causal multi-head self-attention with relative position logits (Huang et al. 2018).

    Each head has its own learned table ``E_r`` of shape ``(max_len, key_dim)``: row
    ``max_len - 1 - d`` holds distance ``d`` back. The logit of query ``i`` and key
    ``j <= i`` is ``(q_i . k_j + q_i . E_r[d = i - j]) / sqrt(key_dim)``; keys after the
    query are masked. Logits and softmax are computed in float32 whatever the
    layer's dtype policy (mixed_float16 included).

    Args:
        num_heads: attention heads.
        key_dim: width of each head's queries, keys and values.
        max_len: the longest sequence the layer reads (rows of ``E_r``).
        relative: add the relative logits (False: plain causal attention).
        dropout: dropout rate on the attention weights.

    Call arguments:
        inputs: ``(batch, time, d_model)`` with ``time <= max_len``.
        training: dropout on or off.

    Returns ``(batch, time, d_model)``. The projections are plain weights, not
    sublayers, so a later key/value cache can reuse :meth:`project` and
    :meth:`attend` for one new query against cached keys.
    """

    def __init__(self, num_heads: int, key_dim: int, max_len: int, relative: bool = True,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.max_len = int(max_len)
        self.relative = bool(relative)
        self.dropout = float(dropout)
        self._dropout = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        d_model = int(input_shape[-1])
        heads, dim = self.num_heads, self.key_dim
        init = keras.initializers.GlorotUniform()
        for name in ("query", "key", "value"):
            setattr(self, f"{name}_kernel",
                    self.add_weight(name=f"{name}_kernel", shape=(d_model, heads, dim),
                                    initializer=init))
            setattr(self, f"{name}_bias",
                    self.add_weight(name=f"{name}_bias", shape=(heads, dim),
                                    initializer="zeros"))
        self.output_kernel = self.add_weight(name="output_kernel", shape=(heads, dim, d_model),
                                             initializer=init)
        self.output_bias = self.add_weight(name="output_bias", shape=(d_model,),
                                           initializer="zeros")
        if self.relative:
            self.relative_embedding = self.add_weight(
                name="relative_embedding", shape=(heads, self.max_len, dim),
                initializer=keras.initializers.RandomNormal(stddev=dim ** -0.5))
        self.built = True

    def project(self, inputs):
        """Queries (scaled by ``1 / sqrt(key_dim)``), keys and values: (B, T, H, key_dim) each."""
        q, k, v = (ops.einsum("btd,dhk->bthk", inputs, getattr(self, f"{n}_kernel"))
                   + getattr(self, f"{n}_bias") for n in ("query", "key", "value"))
        return q * ops.cast(1.0 / math.sqrt(self.key_dim), q.dtype), k, v

    def relative_logits(self, q):
        """``q_i . E_r[distance i - j]`` for every key ``j <= i``: (B, H, T, T), by skewing."""
        length = ops.shape(q)[1]
        table = self.relative_embedding[:, self.max_len - length:, :]  # distances T-1 .. 0
        return skew(ops.einsum("bthk,hmk->bhtm", q, table))

    def attend(self, q, k, v, logits_bias=None, mask=None, training=None):
        """Softmax attention in float32 -> the output projection: (B, Tq, d_model).

        ``logits_bias`` (B, H, Tq, Tk) is added to the content logits; ``mask``
        (Tq, Tk), True where a query may see a key.
        """
        logits = ops.cast(ops.einsum("bthk,bshk->bhts", q, k), "float32")
        if logits_bias is not None:
            logits = logits + ops.cast(logits_bias, "float32")
        if mask is not None:
            logits = ops.where(mask, logits, _MASKED)
        weights = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        weights = self._dropout(weights, training=training)
        heads = ops.einsum("bhts,bshk->bthk", weights, v)
        return ops.einsum("bthk,hkd->btd", heads, self.output_kernel) + self.output_bias

    def call(self, inputs, training=None):
        length = inputs.shape[1]
        if length is not None and length > self.max_len:
            raise KerasMusicError(f"the sequence has {length} steps, but this attention layer "
                                  f"reads at most max_len={self.max_len}")
        q, k, v = self.project(inputs)
        steps = ops.arange(ops.shape(inputs)[1])
        causal = ops.expand_dims(steps, 1) >= ops.expand_dims(steps, 0)
        bias = self.relative_logits(q) if self.relative else None
        return self.attend(q, k, v, bias, causal, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "max_len": self.max_len, "relative": self.relative, "dropout": self.dropout}


@register
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each step's absolute position: (B, T, D) -> (B, T, D)."""

    def __init__(self, max_len: int, **kwargs):
        super().__init__(**kwargs)
        self.max_len = int(max_len)

    def build(self, input_shape):
        self.positions = self.add_weight(name="positions", shape=(self.max_len, input_shape[-1]),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.built = True

    def call(self, inputs):
        length = inputs.shape[1]
        if length is not None and length > self.max_len:
            raise KerasMusicError(f"the sequence has {length} steps, but the position "
                                  f"embedding has max_len={self.max_len}")
        return inputs + ops.cast(self.positions[:ops.shape(inputs)[1]], inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len}


@register
class LastStep(keras.layers.Layer):
    """The last step of a sequence: (B, T, D) -> (B, D)."""

    def call(self, inputs):
        return inputs[:, -1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])


def build_music_transformer(
    vocab_size: int | Sequence[int],
    max_len: int = 256,
    n_layers: int = 4,
    d_model: int = 128,
    n_heads: int = 4,
    ff_dim: int | None = None,
    dropout: float = 0.1,
    relative: bool = True,
    *,
    absolute_positions: bool | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    learning_rate: float = 1e-3,
    global_clipnorm: float | None = None,
    name: str = "music_transformer",
) -> keras.Model:
    """Build and compile a decoder-only Music Transformer that predicts the next token.

    Args:
        vocab_size: the vocabulary size, or one size per parallel token stream (e.g.
            ``(n_pitches, n_durations)``: one input and one output per stream; the
            streams' embeddings are summed, so each step is one event).
        max_len: the longest sequence the model reads (relative and absolute
            position tables have this many rows).
        n_layers: Transformer blocks.
        d_model: width of the embeddings and of every block's output.
        n_heads: attention heads (``d_model`` must divide by it).
        ff_dim: hidden width of each feed-forward layer (default ``4 * d_model``).
        dropout: dropout rate on the embeddings, the attention weights and each
            block's two residual branches.
        relative: relative position attention (Huang et al. 2018) in every layer.
        absolute_positions: add a learned absolute position embedding (default:
            only without relative attention, where nothing else tells positions apart).
        input_names: one name per stream (default ``"tokens"``, or ``"tokens_0"``...).
        output_names: one name per stream (default ``"next_token"``, or ``"next_0"``...).
        learning_rate: Adam learning rate of the compiled model.
        global_clipnorm: Adam clips the gradients to this global norm (None: no
            clipping). Under a ``tf.distribute`` strategy Keras 3.15 clips each
            replica's gradient before they are summed, so a clipped distributed run
            is not the one-device run (measured); the trainers leave it off.
        name: the model's name.

    Returns:
        A functional ``keras.Model`` compiled with Adam and one sparse categorical
        cross-entropy per stream: inputs of shape ``(batch, time)`` (int ids,
        ``time <= max_len``), outputs of shape ``(batch, time, vocab)``, the float32
        probabilities of the token after each step (causal: step ``t`` sees steps
        ``0..t`` only).

    The output layers are not tied to the input embeddings. Tying saves
    ``vocab * d_model`` weights, which is nothing for the few dozen pitch or
    duration tokens of a music vocabulary, and where streams are summed an input
    embedding stands for a share of an event, not for the token a head predicts.
    Untied heads are also plain float32 ``Dense`` layers named after their stream,
    which the library's encoding checks read.

    Example:
    ```python
    model = kerasmusic.build_music_transformer(50, max_len=32, n_layers=1, d_model=16,
                                               n_heads=2)
    probs = model.predict(np.zeros((1, 32), "int32"))  # (1, 32, 50)
    ```
    """
    sizes = [vocab_size] if isinstance(vocab_size, int) else list(vocab_size)
    if not sizes:
        raise KerasMusicError("build_music_transformer: vocab_size must name at least one "
                              "vocabulary")
    for size in sizes:
        check_count("vocab_size", size)
    for arg, value in (("max_len", max_len), ("n_layers", n_layers), ("d_model", d_model),
                       ("n_heads", n_heads)):
        check_count(arg, value)
    check_count("ff_dim", ff_dim, optional=True)
    check_rate("dropout", dropout)
    check_learning_rate("learning_rate", learning_rate)
    check_positive("global_clipnorm", global_clipnorm, optional=True)
    if d_model % n_heads:
        raise KerasMusicError(f"build_music_transformer: d_model ({d_model}) must be a "
                              f"multiple of n_heads ({n_heads})")
    single = len(sizes) == 1
    input_names = list(input_names or (["tokens"] if single else
                                       [f"tokens_{i}" for i in range(len(sizes))]))
    output_names = list(output_names or (["next_token"] if single else
                                         [f"next_{i}" for i in range(len(sizes))]))
    for what, names in (("input_names", input_names), ("output_names", output_names)):
        if len(names) != len(sizes):
            raise KerasMusicError(f"build_music_transformer: {len(names)} {what} for "
                                  f"{len(sizes)} vocabularies")
    if absolute_positions is None:
        absolute_positions = not relative
    ff_dim = 4 * d_model if ff_dim is None else ff_dim
    layers = keras.layers

    inputs = [keras.Input(shape=(None,), dtype="int32", name=n) for n in input_names]
    embedded = [layers.Embedding(size, d_model, name=f"{n}_embedding")(x)
                for n, size, x in zip(input_names, sizes, inputs)]
    x = embedded[0] if single else layers.Add(name="event_embedding")(embedded)
    if absolute_positions:
        x = PositionEmbedding(max_len, name="position_embedding")(x)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(n_layers):
        h = layers.LayerNormalization(epsilon=1e-5, name=f"block_{i}_attention_norm")(x)
        h = RelativeCausalSelfAttention(n_heads, d_model // n_heads, max_len, relative,
                                        dropout, name=f"block_{i}_attention")(h)
        h = layers.Dropout(dropout, name=f"block_{i}_attention_dropout")(h)
        x = layers.Add(name=f"block_{i}_attention_residual")([x, h])
        h = layers.LayerNormalization(epsilon=1e-5, name=f"block_{i}_ff_norm")(x)
        h = layers.Dense(ff_dim, activation="gelu", name=f"block_{i}_ff_hidden")(h)
        h = layers.Dense(d_model, name=f"block_{i}_ff_output")(h)
        h = layers.Dropout(dropout, name=f"block_{i}_ff_dropout")(h)
        x = layers.Add(name=f"block_{i}_ff_residual")([x, h])
    x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    # float32 heads: softmax and loss stay float32 under a mixed_float16 policy.
    outputs = [layers.Dense(size, activation="softmax", dtype="float32", name=n)(x)
               for n, size in zip(output_names, sizes)]
    model = keras.Model(inputs[0] if single else inputs, outputs[0] if single else outputs,
                        name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate,
                                                  global_clipnorm=global_clipnorm),
                  loss={n: keras.losses.SparseCategoricalCrossentropy() for n in output_names})
    return model


def note_duration_transformer(n_notes: int, n_durations: int, **kwargs) -> keras.Model:
    """:func:`build_music_transformer` over note/duration tokens, the attention LSTM's.

    Inputs ``notes`` and ``durations``, outputs ``pitch`` and ``duration`` (the
    names :func:`~kerasmusic.create_network` uses, so the note/duration datasets,
    encoding checks and generation serve both); keyword arguments go to
    :func:`build_music_transformer`.
    """
    return build_music_transformer((n_notes, n_durations), input_names=("notes", "durations"),
                                   output_names=("pitch", "duration"), **kwargs)


def _final_norm(model: keras.Model):
    """The last layer norm of a Music Transformer (KerasMusicError for another model)."""
    try:
        return model.get_layer("final_norm")
    except ValueError:
        raise KerasMusicError(f"model {model.name!r} is not a Music Transformer (no "
                              "'final_norm' layer)") from None


def last_step_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers that predicts only after the last step.

    For inputs of shape (batch, time) its outputs are (batch, vocab) per stream: the
    interface of :func:`~kerasmusic.create_network`, so the note/duration generation
    loop and quality report take it as they take the attention LSTM. The new model
    is not compiled.

    Raises:
        KerasMusicError: ``model`` is not from :func:`build_music_transformer`.
    """
    norm = _final_norm(model)
    heads = [model.get_layer(name) for name in model.output_names]
    last = LastStep(name="last_step")(norm.output)
    outputs = [head(last) for head in heads]
    single = len(outputs) == 1
    return keras.Model(model.inputs[0] if single else model.inputs,
                       outputs[0] if single else outputs, name=f"{model.name}_next")


def every_step_model(model: keras.Model) -> keras.Model:
    """The Music Transformer that predicts after every step, from ``model`` or from its
    :func:`last_step_model` (the saved one): the same layers, outputs (batch, time, vocab)
    per stream. ``model`` itself if it already predicts after every step.

    Raises:
        KerasMusicError: ``model`` is not from :func:`build_music_transformer`.
    """
    norm = _final_norm(model)
    if len(model.outputs[0].shape) == 3:
        return model
    outputs = [model.get_layer(name)(norm.output) for name in model.output_names]
    single = len(outputs) == 1
    name = model.name[:-len("_next")] if model.name.endswith("_next") else model.name
    return keras.Model(model.inputs[0] if single else model.inputs,
                       outputs[0] if single else outputs, name=f"{name}_steps")
