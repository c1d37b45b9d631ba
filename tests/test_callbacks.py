import numpy as np
import pytest

import kerasmusic as km
from kerasmusic.training.callbacks import StopOnNonFinite


def test_fit_stops_at_the_batch_whose_loss_is_nan():
    import keras

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.MeanSquaredError())
        return m

    x = np.ones((12, 3), "float32")
    x[8] = np.nan  # the third batch of 4
    y = np.zeros((12, 1), "float32")
    with pytest.raises(km.NonFiniteLossError,
                       match=r"loss = nan at batch 3 of epoch 1.*runs/last\.keras"):
        model().fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                  callbacks=[StopOnNonFinite(last_good="runs/last.keras")])
    # Without NaN it trains on.
    history = model().fit(np.ones((8, 3)), np.zeros((8, 1)), batch_size=4, epochs=1, verbose=0,
                        callbacks=[StopOnNonFinite()])
    assert np.isfinite(history.history["loss"][0])


def test_fit_writes_epoch_lines_not_a_progress_bar_into_a_pipe(capsys):
    """verbose="auto" (every trainer's default) draws Keras' bar only on a terminal."""
    import keras
    import tensorflow as tf

    from kerasmusic.training.callbacks import fit_verbosity, fit_with_baseline

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError())
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 3)), np.ones((8, 1)))).batch(4)
    fit_with_baseline(model, data, data, epochs=2, max_seconds=None)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "val_loss" in out
    assert "\x1b[" not in out and "━" not in out and "\x08" not in out
    assert fit_verbosity() == 2 and fit_verbosity(0) == 0


def _note_pieces():
    from builders import make_piece

    return [make_piece([(60 + (i + j) % 12, j, 1) for j in range(24)], name=f"p{i}")
            for i in range(4)]


def _poison_after_first_batch():
    """A callback that sets every weight to NaN after the first batch (a blown-up step)."""
    import keras

    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                for v in self.model.trainable_variables:
                    v.assign(np.full(v.shape, np.nan, "float32"))

    return Poison()


@pytest.mark.parametrize("trainer", ["train_note_lstm", "train_event_lstm",
                                     "train_pianoroll_rnn", "train_music_transformer"])
def test_every_fit_trainer_stops_at_nan_weights_with_its_error(trainer):
    """The note LSTM's step used to crash in RMSprop's sparse embedding update
    (``InvalidArgumentError: indices[0] = 221 is not in [0, 65)``)."""
    kwargs = {"train_note_lstm": dict(tracks=[0], seq_len=4, embed_size=4, rnn_units=4),
              "train_music_transformer": dict(tracks=[0], seq_len=4, n_layers=1, d_model=8,
                                              n_heads=2)}.get(trainer, dict(units=4))
    with pytest.raises(km.NonFiniteLossError, match=r"at batch 2 of epoch 1.*no checkpoint"):
        getattr(km, trainer)(_note_pieces(), epochs=2, batch_size=8, verbose=0,
                             callbacks=[_poison_after_first_batch()], **kwargs)


def test_nan_weights_before_training_are_refused():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.layers[0].kernel.assign(np.full((3, 1), np.inf, "float32"))
    with pytest.raises(km.NonFiniteLossError,
                       match=r"NaN / Inf in \S*dense\S*/kernel before training"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0, callbacks=[StopOnNonFinite()])


def _rates(warmup, n_batches: int) -> list[float]:
    """The learning rate of each of ``n_batches`` SGD batches trained with ``warmup``."""
    import keras

    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rates.append(float(self.model.optimizer.learning_rate))

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.4), loss=keras.losses.MeanSquaredError())
    model.fit(np.ones((n_batches, 3)), np.ones((n_batches, 1)), batch_size=1, verbose=0,
              callbacks=[warmup, Record()])
    return rates


def test_warmup_raises_the_rate_linearly_then_leaves_it():
    from kerasmusic.training.callbacks import Warmup

    np.testing.assert_allclose(_rates(Warmup(4, 0.4), 6), [0.1, 0.2, 0.3, 0.4, 0.4, 0.4],
                               rtol=1e-6)
    with pytest.raises(km.InvalidArgumentError, match="warmup_steps"):
        Warmup(-1, 0.1)


def test_warmup_then_cosine_decay_to_zero_at_the_last_step():
    import math

    from kerasmusic.training.callbacks import Warmup

    expected = [0.2, 0.4] + [0.2 * (1 + math.cos(math.pi * min(1, n / 4))) for n in (2, 3, 4)]
    np.testing.assert_allclose(_rates(Warmup(2, 0.4, decay_steps=4), 5), expected, rtol=1e-5,
                               atol=1e-7)
