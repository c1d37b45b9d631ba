import keras
import numpy as np
import pytest
from model_contract import ModelContract

import kerasmusic as km
from kerasmusic.models.attention_lstm import every_step_model


def test_parameter_count_matches_the_seed_model():
    assert km.create_network(387, 18).count_params() == 1_138_122


def test_shapes_and_heads():
    model = km.create_network(20, 7, embed_size=4, rnn_units=8)
    x = np.zeros((3, 11), "int32")
    pitch, duration = model.predict([x, x], verbose=0)
    assert pitch.shape == (3, 20) and duration.shape == (3, 7)
    np.testing.assert_allclose(pitch.sum(-1), 1, rtol=1e-5)
    assert [o.name for o in model.outputs] and model.output_names == ["pitch", "duration"]


def test_no_lambda_layers_and_without_attention():
    for attention in (True, False):
        net = km.create_network(20, 7, embed_size=4, rnn_units=8, use_attention=attention)
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in net.layers)
    model = km.create_network(20, 7, embed_size=4, rnn_units=8, use_attention=False)
    x = np.zeros((2, 5), "int32")
    assert model.predict([x, x], verbose=0)[0].shape == (2, 20)
    with pytest.raises(km.KerasMusicError, match="no attention layer"):
        km.attention_model(model)


def test_attention_weights_are_a_distribution_over_time():
    model = km.create_network(20, 7, embed_size=4, rnn_units=8)
    rng = np.random.default_rng(0)
    notes, durations = rng.integers(0, 20, (2, 9)), rng.integers(0, 7, (2, 9))
    weights = km.attention_weights(model, notes, durations)
    assert weights.shape == (2, 9)
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-5)
    assert km.attention_weights(model, notes[0], durations[0]).shape == (9,)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(km.KerasMusicError, match="n_notes"):
        km.create_network(0, 5)


def test_every_step_model_predicts_what_the_windowed_model_does_at_each_step():
    model = km.create_network(9, 5, embed_size=4, rnn_units=6, dropout=0.2)
    steps = every_step_model(model)
    assert steps.count_params() == model.count_params()
    rng = np.random.default_rng(0)
    notes, durations = rng.integers(0, 9, (3, 7)), rng.integers(0, 5, (3, 7))
    every = [np.asarray(p) for p in steps([notes, durations])]
    for t in (2, 4, 7):
        window = [np.asarray(p) for p in model([notes[:, :t], durations[:, :t]])]
        for head in range(2):
            np.testing.assert_allclose(every[head][:, t - 1], window[head], rtol=1e-5,
                                       atol=1e-6)
    with pytest.raises(km.KerasMusicError, match="attention"):
        every_step_model(km.create_network(9, 5, 4, 6, use_attention=False))


def test_dropout_is_validated_and_keeps_the_parameter_count():
    assert km.create_network(387, 18, dropout=0.3).count_params() == 1_138_122
    with pytest.raises(km.KerasMusicError, match="dropout"):
        km.create_network(9, 5, dropout=1.0)


def _ids(shape, high, seed):
    return np.random.default_rng(seed).integers(0, high, shape).astype("int32")


class TestAttentionLSTMContract(ModelContract):
    """Build, config, three save formats, distributed step, seeded generation."""

    def build(self):
        return km.create_network(9, 5, embed_size=4, rnn_units=8)

    def inputs(self, batch, seed):
        return [_ids((batch, 6), 9, seed), _ids((batch, 6), 5, seed + 100)]

    def targets(self, batch, seed):
        return [_ids((batch,), 9, seed), _ids((batch,), 5, seed + 100)]

    def generate(self, model, seed):
        pitches, _ = km.generate_ids(model, _ids((2, 6), 9, 0), _ids((2, 6), 5, 1), 8,
                                     seed=seed, stop_at_start=False)
        return pitches
