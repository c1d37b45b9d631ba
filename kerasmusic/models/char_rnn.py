"""Character-level LSTM language models, plain and conditioned on a label.

:func:`build_char_rnn` is the functional model that is trained and saved:
``chars`` (batch, time) int ids -> one-hot or embedding -> [concatenated with the
one-hot or embedded label at every step] -> LSTM x n_layers -> ``Dense`` logits
(batch, time, vocab). Softmax of the logits is the next-character distribution.

:class:`CharRNNCore` runs the same layers (same weights) piece by piece: with an
explicit LSTM state in and out (truncated BPTT, priming), one character at a time
through the LSTM cells (generation), and with the recurrent block checkpointed by
``tf.recompute_grad`` (less memory on long sequences). :func:`build_stateful_char_rnn`
makes a Keras ``stateful=True`` copy for ``fit``-style TBPTT or step-by-step use.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from kerasmusic.errors import KerasMusicError, VocabularyMismatchError
from kerasmusic.models.layers import register
from kerasmusic.validation import check_learning_rate, check_rate


@register
class TokenOneHot(keras.layers.Layer):
    """Integer ids (any shape) -> float one-hot vectors of size ``depth`` on a new last axis."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, ids):
        return ops.one_hot(ops.cast(ids, "int32"), self.depth, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def build_char_rnn(
    vocab_size: int,
    *,
    n_labels: int = 0,
    embed_size: int | None = 32,
    label_embed_size: int | None = None,
    rnn_units: int = 128,
    n_layers: int = 1,
    dropout: float = 0.0,
    learning_rate: float = 2e-3,
    clipnorm: float | None = 5.0,
    batch_size: int | None = None,
    stateful: bool = False,
    name: str = "char_rnn",
) -> keras.Model:
    """A character-level LSTM language model returning logits over the alphabet.

    Args:
        vocab_size: number of characters (``CharEncoding.vocab_size``).
        n_labels: > 0 makes a conditional model with a second input ``labels``
            (batch, time): a label id per step, concatenated to the character input.
        embed_size: character embedding width; None or 0 feeds one-hot vectors.
        label_embed_size: label embedding width; None or 0 feeds one-hot labels.
        rnn_units: units per LSTM layer.
        n_layers: stacked LSTM layers.
        dropout: dropout rate on the LSTM stack's input and output (none inside it,
            so that a checkpointed block recomputes exactly what it computed).
        learning_rate: Adam learning rate of the compiled model.
        clipnorm: clip gradients to this global norm (None: no clipping).
        batch_size: fixed batch size (needed with ``stateful``).
        stateful: Keras stateful LSTMs (see :func:`build_stateful_char_rnn`).
        name: model name.

    Returns:
        A compiled functional model: input ``chars`` (or ``[chars, labels]``), output
        ``logits`` (batch, time, vocab_size); loss sparse categorical cross-entropy
        from logits; ``Adam`` with global-norm clipping.
    """
    if vocab_size < 2 or rnn_units < 1 or n_layers < 1 or n_labels < 0:
        raise KerasMusicError(f"need vocab_size >= 2, rnn_units >= 1, n_layers >= 1 and "
                              f"n_labels >= 0; got {vocab_size}, {rnn_units}, {n_layers}, "
                              f"{n_labels}")
    if stateful and not batch_size:
        raise KerasMusicError("a stateful model needs a fixed batch_size")
    check_learning_rate("learning_rate", learning_rate)
    check_rate("dropout", dropout)
    chars = keras.Input((None,), batch_size=batch_size, dtype="int32", name="chars")
    inputs = [chars]
    if embed_size:
        x = keras.layers.Embedding(vocab_size, embed_size, name="char_embedding")(chars)
    else:
        x = TokenOneHot(vocab_size, name="char_one_hot")(chars)
    if n_labels:
        labels = keras.Input((None,), batch_size=batch_size, dtype="int32", name="labels")
        inputs.append(labels)
        if label_embed_size:
            lab = keras.layers.Embedding(n_labels, label_embed_size, name="label_embedding")(
                labels)
        else:
            lab = TokenOneHot(n_labels, name="label_one_hot")(labels)
        x = keras.layers.Concatenate(name="with_label")([x, lab])
    if dropout:
        x = keras.layers.Dropout(dropout, name="input_dropout")(x)
    for i in range(n_layers):
        # return_state: CharRNNCore reads the final state of each layer (TBPTT, generation).
        x, _, _ = keras.layers.LSTM(rnn_units, return_sequences=True, return_state=True,
                                    stateful=stateful, name=f"lstm_{i}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    # float32 logits under a mixed_float16 policy (a no-op otherwise).
    logits = keras.layers.Dense(vocab_size, name="logits", dtype="float32")(x)
    model = keras.Model(inputs if n_labels else chars, logits, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, global_clipnorm=clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


class CharRNNCore:
    """The layers of a :func:`build_char_rnn` model, run with an explicit LSTM state.

    The state is a flat tuple ``(h_0, c_0, h_1, c_1, ...)``, one (batch, units) pair
    per LSTM layer. Everything here uses the model's own layers, so it trains and
    reads exactly the weights that :meth:`keras.Model.save` writes.

    Args:
        model: a model from :func:`build_char_rnn` (fresh or loaded from a file).
    """

    def __init__(self, model: keras.Model):
        layers = {layer.name: layer for layer in model.layers}
        self.model = model
        self.char_input = layers.get("char_embedding") or layers.get("char_one_hot")
        self.label_input = layers.get("label_embedding") or layers.get("label_one_hot")
        self.lstms = []
        while f"lstm_{len(self.lstms)}" in layers:
            self.lstms.append(layers[f"lstm_{len(self.lstms)}"])
        self.input_dropout = layers.get("input_dropout")
        self.output_dropout = layers.get("output_dropout")
        self.head = layers.get("logits")
        if self.char_input is None or self.head is None or not self.lstms or not all(
                getattr(layer, "return_state", False) for layer in self.lstms):
            raise KerasMusicError(f"model {model.name!r} is not a character RNN from "
                                  "build_char_rnn")
        self.units = [layer.units for layer in self.lstms]

    @property
    def vocab_size(self) -> int:
        """Number of characters the model predicts."""
        return int(self.head.units)

    @property
    def n_labels(self) -> int:
        """Number of labels of a conditional model, 0 otherwise."""
        if self.label_input is None:
            return 0
        return int(getattr(self.label_input, "input_dim", None) or self.label_input.depth)

    def config(self) -> dict:
        """The :func:`build_char_rnn` arguments that rebuild this architecture."""
        embed = getattr(self.char_input, "output_dim", None)
        label_embed = getattr(self.label_input, "output_dim", None)
        return {"vocab_size": self.vocab_size, "n_labels": self.n_labels,
                "embed_size": embed, "label_embed_size": label_embed,
                "rnn_units": self.units[0], "n_layers": len(self.lstms),
                "dropout": self.input_dropout.rate if self.input_dropout else 0.0}

    def zero_state(self, batch) -> tuple:
        """The all-zero state for ``batch`` rows."""
        return tuple(tf.zeros([batch, units]) for units in self.units for _ in range(2))

    def features(self, chars, labels=None, training: bool = False):
        """Per-step LSTM input: character (and label) one-hot / embedding vectors."""
        x = self.char_input(chars)
        if self.label_input is not None:
            if labels is None:
                raise KerasMusicError("this char-RNN is conditional: pass label ids too")
            x = ops.concatenate([x, ops.cast(self.label_input(labels), x.dtype)], axis=-1)
        if self.input_dropout is not None:
            x = self.input_dropout(x, training=training)
        return x

    def _stack(self, x, state, training):
        new_state = []
        for i, lstm in enumerate(self.lstms):
            x, h, c = lstm(x, initial_state=[state[2 * i], state[2 * i + 1]],
                           training=training)
            new_state += [h, c]
        return x, tuple(new_state)

    def recur(self, x, state, training: bool = False, checkpoint_every: int | None = None):
        """Run the LSTM stack over (batch, time, features) from ``state``.

        Args:
            checkpoint_every: if set and the time axis is longer, cut it into segments
                of this many steps and wrap each in ``tf.recompute_grad``: the backward
                pass keeps only the states between segments and recomputes one segment
                at a time (less memory, about one more forward pass of compute).

        Returns:
            (outputs (batch, time, units), final state).
        """
        steps = x.shape[1]
        if not checkpoint_every or steps is None or steps <= checkpoint_every:
            return self._stack(x, state, training)
        sizes = [checkpoint_every] * (steps // checkpoint_every)
        if steps % checkpoint_every:
            sizes.append(steps % checkpoint_every)

        def segment(x_seg, *seg_state):
            y, new_state = self._stack(x_seg, seg_state, training)
            # The state comes first: recompute_grad makes the recomputation wait for the
            # gradient of its first output, here the one flowing back from the next
            # segment. With the outputs first, every segment's gradient is ready at once
            # and graph mode would recompute all segments together, saving nothing.
            return (*new_state, y)

        checkpointed = tf.recompute_grad(segment)
        outputs = []
        for x_seg in tf.split(x, sizes, axis=1):  # split's gradient is a concat, not N pads
            *state, y = checkpointed(x_seg, *state)
            outputs.append(y)
        return tf.concat(outputs, axis=1), tuple(state)

    def logits(self, y, training: bool = False):
        """Logits from the LSTM stack's outputs."""
        if self.output_dropout is not None:
            y = self.output_dropout(y, training=training)
        return self.head(y)

    def __call__(self, chars, labels=None, state=None, training: bool = False,
                 checkpoint_every: int | None = None):
        """Logits (batch, time, vocab) and the final state, starting from ``state`` (or zeros)."""
        x = self.features(chars, labels, training)
        if state is None:
            state = self.zero_state(tf.shape(chars)[0])
        y, state = self.recur(x, state, training, checkpoint_every)
        return self.logits(y, training), state

    def step(self, char_ids, label_ids=None, state=None):
        """One character per row (batch,) -> logits (batch, vocab) and the next state.

        Calls the LSTM cells directly: no sequence loop around a single step.
        """
        x = self.features(char_ids, label_ids)
        if state is None:
            state = self.zero_state(tf.shape(char_ids)[0])
        new_state = []
        for i, lstm in enumerate(self.lstms):
            x, (h, c) = lstm.cell(x, [state[2 * i], state[2 * i + 1]], training=False)
            new_state += [h, c]
        return self.head(x), tuple(new_state)


def copy_char_rnn_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy every layer's weights from ``source`` to the same-named layer of ``target``."""
    for model in (source, target):  # both must be char-RNNs
        CharRNNCore(model)
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


def build_stateful_char_rnn(model: keras.Model, batch_size: int) -> keras.Model:
    """A Keras ``stateful=True`` copy of ``model`` (weights copied) for a fixed batch size.

    Each call continues from the state the previous call left; ``reset_char_rnn_state(m)``
    starts over. Train it with ``fit(..., shuffle=False)`` on consecutive batches
    and copy the weights back with :func:`copy_char_rnn_weights`.
    """
    config = CharRNNCore(model).config()
    stateful = build_char_rnn(**config, batch_size=batch_size, stateful=True,
                              name=f"{model.name}_stateful")
    copy_char_rnn_weights(model, stateful)
    return stateful


def reset_char_rnn_state(model: keras.Model) -> None:
    """Zero the state of every stateful LSTM of ``model``."""
    for layer in CharRNNCore(model).lstms:
        if layer.stateful:
            layer.reset_state()


def check_char_encoding(model: keras.Model, encoding) -> None:
    """Raise VocabularyMismatchError unless ``model`` fits ``encoding`` (a CharEncoding)."""
    core = CharRNNCore(model)
    if core.vocab_size != encoding.vocab_size:
        raise VocabularyMismatchError(
            f"the model predicts {core.vocab_size} characters, the encoding has "
            f"{encoding.vocab_size}: not the encoding it was trained with")
    if core.n_labels != encoding.n_labels:
        raise VocabularyMismatchError(
            f"the model takes {core.n_labels} labels, the encoding has {encoding.n_labels}")
