import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasmusic as km
from kerasmusic.models.music_transformer import note_duration_transformer
from kerasmusic.models.transformer_cache import TransformerStepper

TINY = {"max_len": 12, "n_layers": 2, "d_model": 8, "n_heads": 2, "dropout": 0.1}


def _ids(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape).astype("int32")


def _stepped(stepper, ids, prompt_len):
    """Probabilities for every position from ``prompt_len - 1`` on: prefill, then steps
    through one ``tf.function`` (index a tensor); also the number of its traces."""
    traces = []

    @tf.function
    def step(tokens, index, cache):
        traces.append(1)
        return stepper.step(tokens, index, cache)

    cache = stepper.empty_cache(ids[0].shape[0])
    probs, cache = stepper.prefill([tf.constant(s[:, :prompt_len]) for s in ids], cache)
    rows = [probs]
    for i in range(prompt_len, ids[0].shape[1]):
        probs, cache = step([tf.constant(s[:, i]) for s in ids], tf.constant(i), cache)
        rows.append(probs)
    return [np.stack([np.asarray(r[h]) for r in rows], 1) for h in range(len(ids))], len(traces)


def _assert_matches_full_model(model, ids, prompt_len, atol=1e-5):
    full = model(ids if len(ids) > 1 else ids[0])
    full = [np.asarray(f) for f in (full if isinstance(full, (list, tuple)) else [full])]
    stepped, traces = _stepped(TransformerStepper(model), ids, prompt_len)
    for got, want in zip(stepped, full, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want[:, prompt_len - 1:], atol=atol, rtol=0)
    assert traces == 1


# A one-step prompt is a softmax over one key, which Keras warns about.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("positions", [True, False])
def test_prefill_then_steps_give_the_full_models_probabilities(relative, positions):
    model = km.build_music_transformer(20, **TINY, relative=relative,
                                       absolute_positions=positions)
    ids = [_ids((3, TINY["max_len"]), 20)]  # to the last position the model reads
    _assert_matches_full_model(model, ids, prompt_len=4)
    _assert_matches_full_model(model, ids, prompt_len=1)


def test_two_streams_and_the_stepper_attributes():
    model = note_duration_transformer(9, 5, **TINY)
    stepper = TransformerStepper(model)
    assert (stepper.max_len, stepper.n_streams) == (12, 2)
    cache = stepper.empty_cache(3)
    assert len(cache) == 2 and all(k.shape == v.shape == (3, 2, 12, 4) for k, v in cache)
    _assert_matches_full_model(model, [_ids((3, 10), 9), _ids((3, 10), 5, seed=1)], 3)


def test_the_prompt_can_fill_the_whole_cache():
    model = km.build_music_transformer(20, **TINY)
    ids = _ids((2, 12), 20)
    stepper = TransformerStepper(model)
    probs, _ = stepper.prefill([tf.constant(ids)], stepper.empty_cache(2))
    np.testing.assert_allclose(probs[0], np.asarray(model(ids))[:, -1], atol=1e-5, rtol=0)


def test_steps_inside_one_compiled_while_loop_with_and_without_xla():
    model = note_duration_transformer(9, 5, **{**TINY, "n_layers": 1})  # XLA compiles faster
    stepper = TransformerStepper(model)
    notes, durations = _ids((2, 12), 9), _ids((2, 12), 5, seed=1)
    full = [np.asarray(p) for p in model([notes, durations])]
    prompt = 2

    def run(notes, durations):
        probs, cache = stepper.prefill([notes[:, :prompt], durations[:, :prompt]],
                                       stepper.empty_cache(2))
        rows = tf.TensorArray(tf.float32, size=12 - prompt + 1).write(0, probs[0])

        def body(i, cache, rows):
            probs, cache = stepper.step([notes[:, i], durations[:, i]], i, cache)
            return i + 1, cache, rows.write(i - prompt + 1, probs[0])

        _, _, rows = tf.while_loop(lambda i, *_: i < 12, body, (tf.constant(prompt), cache, rows))
        return tf.transpose(rows.stack(), (1, 0, 2))

    for jit in (False, True):
        got = tf.function(run, jit_compile=jit)(tf.constant(notes), tf.constant(durations))
        np.testing.assert_allclose(got, full[0][:, prompt - 1:], atol=1e-5, rtol=0)


def test_the_stepper_uses_the_models_weights_not_a_copy():
    model = km.build_music_transformer(20, **TINY)
    stepper = TransformerStepper(model)
    attention = model.get_layer("block_1_attention")
    attention.relative_embedding.assign(attention.relative_embedding * 3.0)
    model.get_layer("next_token").bias.assign(np.linspace(-1, 1, 20).astype("float32"))
    ids = [_ids((2, 8), 20)]
    stepped, _ = _stepped(stepper, ids, 3)
    np.testing.assert_allclose(stepped[0], np.asarray(model(ids[0]))[:, 2:], atol=1e-5, rtol=0)


def test_a_model_loaded_back_from_keras(tmp_path):
    model = note_duration_transformer(9, 5, **TINY, relative=False)
    km.save_model(model, tmp_path / "m.keras")
    loaded = km.load_model(tmp_path / "m.keras")
    _assert_matches_full_model(loaded, [_ids((2, 9), 9), _ids((2, 9), 5, seed=1)], 4)


def test_wrong_models_and_inputs_are_clear_errors():
    with pytest.raises(km.KerasMusicError, match="not a Music Transformer.*final_norm"):
        TransformerStepper(km.create_network(9, 5, 4, 6))
    with pytest.raises(km.KerasMusicError, match="keras.Model"):
        TransformerStepper("model.keras")
    stepper = TransformerStepper(km.build_music_transformer(20, **TINY))
    cache = stepper.empty_cache(1)
    with pytest.raises(km.KerasMusicError, match="max_len=12"):
        stepper.prefill([tf.zeros((1, 13), tf.int32)], cache)
    with pytest.raises(km.KerasMusicError, match="1 token streams, got 2"):
        stepper.step([tf.zeros((1,), tf.int32)] * 2, 0, cache)
    with pytest.raises(km.KerasMusicError, match="batch_size"):
        stepper.empty_cache(0)


@pytest.mark.parametrize("relative", [True, False])  # False: with the position embedding
def test_mixed_float16_caches_in_float16_and_keeps_float32_probabilities(relative):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = note_duration_transformer(9, 5, **TINY, relative=relative)
        stepper = TransformerStepper(model)
        assert all(k.dtype == v.dtype == tf.float16 for k, v in stepper.empty_cache(2))
        ids = [_ids((2, 10), 9), _ids((2, 10), 5, seed=1)]
        _assert_matches_full_model(model, ids, 3, atol=2e-3)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_a_batch_known_only_when_the_graph_runs_and_int64_ids():
    model = km.build_music_transformer(20, **TINY)
    stepper = TransformerStepper(model)
    ids = _ids((3, 6), 20)

    @tf.function(input_signature=[tf.TensorSpec((None, 6), tf.int64)])
    def last(ids):
        probs, cache = stepper.prefill([ids[:, :2]], stepper.empty_cache(tf.shape(ids)[0]))
        for i in range(2, 6):
            probs, cache = stepper.step([ids[:, i]], tf.constant(i, tf.int64), cache)
        return probs[0]

    np.testing.assert_allclose(last(ids.astype("int64")), np.asarray(model(ids))[:, -1],
                               atol=1e-5, rtol=0)
