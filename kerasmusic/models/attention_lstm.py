"""The attention LSTM over note and duration tokens (``create_network``)."""

from __future__ import annotations

import keras
import numpy as np

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.errors import KerasMusicError, VocabularyMismatchError
from kerasmusic.models.layers import CausalAttentionPooling, TemporalSoftmax, WeightedSum
from kerasmusic.validation import check_learning_rate

ATTENTION_LAYER = "attention_weights"


def create_network(
    n_notes: int,
    n_durations: int,
    embed_size: int = 100,
    rnn_units: int = 256,
    use_attention: bool = True,
    *,
    learning_rate: float = 0.001,
    dropout: float = 0.0,
) -> keras.Model:
    """Build and compile the multi-input note/duration LSTM with attention.

    Two integer sequences (pitch ids, duration ids) are embedded, concatenated
    and run through two LSTMs. With attention, a ``Dense(1, tanh)`` score per
    step is softmaxed over time and the second LSTM's outputs are summed with
    those weights; without it the second LSTM's last output is used. Two softmax
    heads, ``pitch`` and ``duration``, predict the next event. Compiled with two
    sparse categorical cross-entropies and ``RMSprop(learning_rate)``.

    Args:
        n_notes: size of the pitch vocabulary.
        n_durations: size of the duration vocabulary.
        embed_size: embedding width of each input.
        rnn_units: units of each LSTM.
        use_attention: attention pooling (True) or the last LSTM output (False).
        learning_rate: RMSprop learning rate.
        dropout: dropout rate on each LSTM's inputs and on the pooled context (0: none,
            the reference model). The LSTMs keep ``recurrent_dropout=0``, so cuDNN
            still runs them on a GPU; the parameter count does not change.

    Returns:
        A compiled functional ``keras.Model`` with inputs ``notes`` and
        ``durations`` of shape ``(batch, time)`` and outputs ``pitch`` and
        ``duration`` (probabilities). With ``n_notes=387, n_durations=18`` and
        the defaults it has 1,138,122 parameters.

    Example:
    ```python
    model = kerasmusic.create_network(n_notes=50, n_durations=10, embed_size=8, rnn_units=16)
    pitch_probs, duration_probs = model.predict([np.zeros((1, 32)), np.zeros((1, 32))])
    ```
    """
    for name, value in (("n_notes", n_notes), ("n_durations", n_durations),
                        ("embed_size", embed_size), ("rnn_units", rnn_units)):
        if int(value) < 1:
            raise KerasMusicError(f"create_network: {name} must be a positive integer, got {value}")
    if not 0 <= dropout < 1:
        raise KerasMusicError(f"create_network: dropout must be in [0, 1), got {dropout}")
    check_learning_rate("learning_rate", learning_rate)
    layers = keras.layers
    notes_in = keras.Input(shape=(None,), dtype="int32", name="notes")
    durations_in = keras.Input(shape=(None,), dtype="int32", name="durations")
    x1 = layers.Embedding(n_notes, embed_size, name="note_embedding")(notes_in)
    x2 = layers.Embedding(n_durations, embed_size, name="duration_embedding")(durations_in)
    x = layers.Concatenate(name="concat")([x1, x2])
    x = layers.LSTM(rnn_units, return_sequences=True, dropout=dropout, name="lstm_1")(x)
    if use_attention:
        x = layers.LSTM(rnn_units, return_sequences=True, dropout=dropout, name="lstm_2")(x)
        scores = layers.Dense(1, activation="tanh", name="attention_score")(x)
        alpha = TemporalSoftmax(name=ATTENTION_LAYER)(scores)
        context = WeightedSum(name="context")([x, alpha])
    else:
        context = layers.LSTM(rnn_units, dropout=dropout, name="lstm_2")(x)
    if dropout:
        context = layers.Dropout(dropout, name="context_dropout")(context)
    # float32 heads: softmax and loss stay float32 under a mixed_float16 policy.
    notes_out = layers.Dense(n_notes, activation="softmax", name="pitch",
                             dtype="float32")(context)
    durations_out = layers.Dense(n_durations, activation="softmax", name="duration",
                                 dtype="float32")(context)
    model = keras.Model([notes_in, durations_in], [notes_out, durations_out],
                        name="attention_lstm" if use_attention else "stacked_lstm")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss={
            "pitch": keras.losses.SparseCategoricalCrossentropy(),
            "duration": keras.losses.SparseCategoricalCrossentropy(),
        },
    )
    return model


def every_step_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers that predicts the next event after every step.

    For inputs of shape (batch, time) it outputs ``pitch`` and ``duration``
    probabilities of shape (batch, time, vocab): step ``t``'s row is what ``model``
    predicts for the window that ends at ``t`` (:class:`CausalAttentionPooling`).
    Training it gives ``model`` a target per step instead of one per window, with
    the same weights: :func:`~kerasmusic.train_note_lstm` does this. The new model
    is not compiled.

    Raises:
        KerasMusicError: ``model`` is not an attention model from :func:`create_network`.
    """
    if not has_layer(model, ATTENTION_LAYER):
        raise KerasMusicError(f"model {model.name!r} has no attention layer: every-step "
                              "training needs the attention model (use_attention=True)")
    get = model.get_layer
    notes_in = keras.Input(shape=(None,), dtype="int32", name="notes")
    durations_in = keras.Input(shape=(None,), dtype="int32", name="durations")
    x = get("concat")([get("note_embedding")(notes_in), get("duration_embedding")(durations_in)])
    x = get("lstm_2")(get("lstm_1")(x))
    context = CausalAttentionPooling(name="causal_context")([x, get("attention_score")(x)])
    if has_layer(model, "context_dropout"):
        context = get("context_dropout")(context)
    return keras.Model([notes_in, durations_in], [get("pitch")(context), get("duration")(context)],
                       name=f"{model.name}_every_step")


def attention_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights that outputs its attention weights.

    Its output has shape ``(batch, time)``: how much each past step contributed
    to the prediction of the next event (rows sum to 1).
    """
    try:
        layer = model.get_layer(ATTENTION_LAYER)
    except ValueError:
        raise KerasMusicError(
            f"model {model.name!r} has no attention layer (built with use_attention=False?)"
        ) from None
    return keras.Model(model.inputs, layer.output, name=f"{model.name}_attention")


def attention_weights(model: keras.Model, pitch_ids, duration_ids) -> np.ndarray:
    """Attention weights of ``model`` for integer windows of shape (batch, time) or (time,)."""
    pitch_ids = np.asarray(pitch_ids, dtype="int32")
    duration_ids = np.asarray(duration_ids, dtype="int32")
    single = pitch_ids.ndim == 1
    if single:
        pitch_ids, duration_ids = pitch_ids[None], duration_ids[None]
    weights = keras.ops.convert_to_numpy(attention_model(model)([pitch_ids, duration_ids]))
    return weights[0] if single else weights


def check_encoding(model: keras.Model, encoding: NoteDurationEncoding) -> None:
    """Raise VocabularyMismatchError unless ``encoding``'s vocabularies fit ``model``."""
    n_pitch_out = model.get_layer("pitch").units if has_layer(model, "pitch") else None
    n_duration_out = model.get_layer("duration").units if has_layer(model, "duration") else None
    if n_pitch_out is None or n_duration_out is None:
        raise VocabularyMismatchError(
            f"model {model.name!r} has no 'pitch' and 'duration' outputs: not a note/duration "
            "model from create_network"
        )
    if (n_pitch_out, n_duration_out) != (encoding.n_pitches, encoding.n_durations):
        raise VocabularyMismatchError(
            f"the model predicts {n_pitch_out} pitch and {n_duration_out} duration tokens, but "
            f"the vocabularies have {encoding.n_pitches} and {encoding.n_durations}: this "
            "vocabulary was not the one the model was trained with"
        )


def has_layer(model: keras.Model, name: str) -> bool:
    """True if ``model`` has a layer called ``name``."""
    return any(layer.name == name for layer in model.layers)
