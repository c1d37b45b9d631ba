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
