"""Distributed training: the Keras-fit trainers under MirroredStrategy, gradient summing."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from builders import run_on_two_cpus

from kerasmusic.training.distributed import apply_summed_gradients


def _apply(optimizer, grads, variables):
    strategy = tf.distribute.get_strategy()
    strategy.run(lambda: apply_summed_gradients(optimizer, grads, variables, strategy))


@pytest.mark.parametrize("clip", [{"clipnorm": 0.2}, {"global_clipnorm": 0.2},
                                  {"clipvalue": 0.1}])
def test_clipping_with_a_loss_scale_factor_matches_keras(clip):
    grads = [tf.constant([30.0, 40.0]), tf.constant([-50.0])]  # scaled by 100
    ours, theirs = ([tf.Variable([1.0, 1.0]), tf.Variable([1.0])] for _ in range(2))
    _apply(keras.optimizers.SGD(1.0, loss_scale_factor=100.0, **clip), grads, ours)
    keras.optimizers.SGD(1.0, loss_scale_factor=100.0, **clip).apply_gradients(
        zip(grads, theirs))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert not np.allclose(ours[0].numpy(), [1.0 - 0.3, 1.0 - 0.4])  # clipping did act


def test_an_overflow_under_loss_scaling_skips_the_step_even_with_clipvalue():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1, clipvalue=1.0))
    variables = [tf.Variable([1.0, 1.0, 1.0])]
    optimizer.build(variables)
    scale = float(optimizer.dynamic_scale.numpy())
    _apply(optimizer, [tf.constant([np.inf, 1.0, 0.0])], variables)
    np.testing.assert_array_equal(variables[0].numpy(), [1.0, 1.0, 1.0])
    assert float(optimizer.dynamic_scale.numpy()) == scale / 2


# The Keras-fit trainers share one path (build under strategy.scope(), then Model.fit);
# the note LSTM and the Music Transformer (two heads, per-step sample weights, warm-up)
# run by default, the other two with --run-slow.
@pytest.mark.parametrize("names", [
    ["note_lstm", "music_transformer"],
    pytest.param(["pianoroll_rnn", "event_lstm"], marks=pytest.mark.slow),
])
def test_fit_trainers_under_mirrored_strategy_match_one_device(names):
    script = """
        import numpy as np, tensorflow as tf
        import kerasmusic as km
        from builders import make_piece
        rng = np.random.default_rng(0)
        pieces = [make_piece([(int(p), i, int(d)) for i, (p, d) in enumerate(
                      zip(rng.integers(60, 72, 48), rng.integers(1, 3, 48)))], name=f"p{k}")
                  for k in range(6)]
        trainers = {
            "note_lstm": lambda s: km.train_note_lstm(
                pieces, seq_len=8, embed_size=4, rnn_units=8, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0, dropout=0.0,
                transpose=None),
            "music_transformer": lambda s: km.train_music_transformer(
                pieces, seq_len=8, n_layers=1, d_model=8, n_heads=2, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0, dropout=0.0,
                transpose=None, warmup_steps=2),
            "pianoroll_rnn": lambda s: km.train_pianoroll_rnn(
                pieces, seq_len=16, hop=8, units=8, n_layers=1, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0, transpose=None),
            "event_lstm": lambda s: km.train_event_lstm(
                pieces, units=8, dropout=0.0, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0, transpose=None),
        }
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        for name in NAMES:
            train = trainers[name]
            one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
            two = train(mirrored)
            for key in ("loss", "val_loss"):
                np.testing.assert_allclose(one.history[key], two.history[key], rtol=1e-4,
                                           err_msg=f"{name} {key}")
            for a, b in zip(one.model.get_weights(), two.model.get_weights()):
                np.testing.assert_allclose(a, b, atol=1e-4, err_msg=name)
            assert all(np.isfinite(one.history["loss"]))
            print(name, "EQUAL", one.history["loss"])
    """
    printed = run_on_two_cpus(script.replace("NAMES", repr(names)))
    assert all(f"{name} EQUAL" in printed for name in names)
