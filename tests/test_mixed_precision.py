"""The Keras-fit LSTMs and the char-RNN loop under a mixed_float16 policy.

On a GPU this is float16 compute with loss scaling; here on CPU it proves that the
models build, keep float32 outputs and train to a finite loss under the policy.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasmusic.models.attention_lstm import create_network
from kerasmusic.models.char_rnn import build_char_rnn
from kerasmusic.models.event_lstm import build_event_lstm
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn
from kerasmusic.training.char_rnn import make_char_rnn_train_step


@pytest.fixture
def mixed():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "attention_lstm": (lambda: create_network(20, 5, embed_size=4, rnn_units=8),
                           [rng.integers(0, 20, (16, 8)), rng.integers(0, 5, (16, 8))],
                           [rng.integers(0, 20, 16), rng.integers(0, 5, 16)]),
        "pianoroll_rnn": (lambda: build_pianoroll_rnn(12, units=8, n_layers=1),
                          (rng.random((16, 10, 12)) > 0.8).astype("float32"),
                          (rng.random((16, 10, 12)) > 0.8).astype("float32")),
        "event_lstm": (lambda: build_event_lstm(12, 4, 6, units=8, dropout=0.0),
                       np.stack([rng.integers(0, n, (16, 6)) for n in (12, 4, 6)], axis=-1),
                       [rng.integers(0, n, 16) for n in (12, 4, 6)]),
    }


@pytest.mark.parametrize("name", ["attention_lstm", "pianoroll_rnn", "event_lstm"])
def test_fit_models_train_under_mixed_precision_with_float32_outputs(mixed, name):
    keras.utils.set_random_seed(0)
    build, x, y = _data()[name]
    model = build()
    lstm = next(layer for layer in model.layers if isinstance(layer, keras.layers.LSTM))
    assert lstm.compute_dtype == "float16" and lstm.variable_dtype == "float32"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    outputs = tf.nest.flatten(model(x))
    assert all(out.dtype == "float32" for out in outputs)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.isfinite(history).all() and history[-1] < history[0], history


def _char_rnn_losses(optimizer=None, steps=6):
    keras.utils.set_random_seed(0)
    model = build_char_rnn(9, embed_size=4, rnn_units=8)
    step = make_char_rnn_train_step(model, optimizer)
    ids = np.random.default_rng(0).integers(0, 9, (4, 11))
    x, y = tf.constant(ids[:, :-1], tf.int32), tf.constant(ids[:, 1:], tf.int32)
    losses, state = [], None
    for _ in range(steps):
        value, state = step(x, y, state)
        losses.append(float(value))
    return model, losses


def test_char_rnn_step_scales_the_loss_under_mixed_precision():
    _, full = _char_rnn_losses(keras.optimizers.SGD(1.0))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        # With plain SGD an unscaled loss would shrink every update 32768-fold.
        model, half = _char_rnn_losses(
            keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0)))
        assert model(tf.zeros((1, 3), tf.int32)).dtype == "float32"
        # The compiled optimizer (Adam, clipped) is wrapped in loss scaling by Keras.
        model, default = _char_rnn_losses()
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert full[-1] < full[0] - 0.05, full
    np.testing.assert_allclose(half, full, rtol=2e-2)
    assert np.isfinite(default).all() and default[-1] < default[0], default
