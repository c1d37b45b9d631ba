"""generate_sequence on the generation engine: a Music Transformer continues token prompts.

The four older families' compiled-versus-reference equality runs through the same engine
in their own test files (test_generation, test_char_rnn, test_pianoroll_rnn,
test_event_lstm).
"""

import numpy as np
import pytest
import tensorflow as tf

import kerasmusic as km
from kerasmusic.errors import InvalidArgumentError


class FakeStepper:
    """The TransformerStepper interface, with no cache: re-runs the model on a padded buffer.

    It writes the tokens with ``tensor_scatter_nd_update`` (the re-forward stepper uses
    ``tf.where``) and counts its calls, to check the engine's plumbing.
    """

    def __init__(self, model):
        self.model = model
        self.max_len = 12
        self.n_streams = 1
        self.calls = {"prefill": 0, "step": 0}

    def empty_cache(self, batch_size):
        return (tf.zeros([batch_size, self.max_len], tf.int32),)

    def _probs(self, buffer, index):
        return [self.model(buffer, training=False)[:, index]]

    def prefill(self, prompt_ids, cache):
        self.calls["prefill"] += 1
        (prompt,), (buffer,) = prompt_ids, cache
        assert prompt.shape[1] is not None, "the prompt's length is static"
        length = prompt.shape[1]
        buffer = tf.concat([prompt, buffer[:, length:]], axis=1)
        return self._probs(buffer, length - 1), (buffer,)

    def step(self, token_ids, index, cache):
        self.calls["step"] += 1
        (token,), (buffer,) = token_ids, cache
        rows = tf.range(tf.shape(buffer)[0])
        where = tf.stack([rows, tf.fill(tf.shape(rows), index)], axis=1)
        buffer = tf.tensor_scatter_nd_update(buffer, where, token)
        return self._probs(buffer, index), (buffer,)


VOCAB = 11


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(0)
    return km.build_music_transformer(VOCAB, max_len=12, n_layers=1, d_model=8, n_heads=2,
                                      dropout=0.0)


def _prompts(batch=3, length=4, seed=0):
    return np.random.default_rng(seed).integers(0, VOCAB, (batch, length))


SAMPLERS = [km.Sampler(0.0), km.Sampler(1.5), km.Sampler(1.2, top_k=4),
            km.Sampler(1.3, top_p=0.8, method="gumbel")]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=["greedy", "t1.5", "top_k", "gumbel_top_p"])
def test_reforward_equals_the_reference_loop_and_the_cache_path(model, sampler):
    prompts = _prompts()
    slow = km.generate_sequence_reference(model, prompts, 8, sampler=sampler, seed=3)
    full = km.generate_sequence(model, prompts, 8, use_cache=False, sampler=sampler, seed=3)
    fakes = []
    cached = km.generate_sequence(model, prompts, 8, sampler=sampler, seed=3,
                                  _stepper_factory=lambda m: fakes.append(FakeStepper(m))
                                  or fakes[-1])
    assert full.shape == (3, 8) and full.dtype == np.int32
    assert full.min() >= 0 and full.max() < VOCAB
    np.testing.assert_array_equal(full, slow)
    np.testing.assert_array_equal(cached, full)
    # A loop is traced once per sampler kind (then kept): one prefill and one step call.
    assert [f.calls for f in fakes if f.calls["prefill"]] in (
        [], [{"prefill": 1, "step": 1}])


def test_without_xla_too(model):
    prompts = _prompts(2, 3)
    kwargs = dict(sampler=km.Sampler(1.0), seed=1)
    np.testing.assert_array_equal(
        km.generate_sequence(model, prompts, 6, use_cache=False, jit_compile=False, **kwargs),
        km.generate_sequence_reference(model, prompts, 6, **kwargs))


def test_a_seed_fixes_the_tokens_and_rows_are_independent(model):
    prompts = _prompts(4, 2, seed=5)
    a = km.generate_sequence(model, prompts, 9, use_cache=False, seed=7)
    np.testing.assert_array_equal(a, km.generate_sequence(model, prompts, 9, use_cache=False,
                                                          seed=7))
    assert not np.array_equal(a, km.generate_sequence(model, prompts, 9, use_cache=False,
                                                      seed=8))
    greedy = km.generate_sequence(model, prompts, 9, use_cache=False, sampler=km.Sampler(0.0))
    one = km.generate_sequence(model, prompts[2:3], 9, use_cache=False, sampler=km.Sampler(0.0))
    np.testing.assert_array_equal(greedy[2:3], one)  # a row's tokens do not depend on the others


def test_the_sequence_may_fill_max_len_exactly(model):
    prompts = _prompts(2, 5)
    out = km.generate_sequence(model, prompts, 7, use_cache=False, seed=2)  # 5 + 7 = max_len
    np.testing.assert_array_equal(out, km.generate_sequence_reference(model, prompts, 7, seed=2))


def test_the_real_cache_gives_the_reforward_tokens(model):
    prompts = _prompts(2, 3)
    for sampler in (km.Sampler(0.0), km.Sampler(1.0)):
        np.testing.assert_array_equal(
            km.generate_sequence(model, prompts, 9, sampler=sampler, seed=4),
            km.generate_sequence(model, prompts, 9, use_cache=False, sampler=sampler, seed=4))


@pytest.mark.parametrize("prompt, n_tokens, error, match", [
    (np.zeros((1, 6), int), 7, InvalidArgumentError, r"6 \+ 7 = 13 is more than .*max_len=12"),
    (np.zeros(4, int), 2, InvalidArgumentError, "prompt_ids must be a \\(batch, prompt_len\\)"),
    (np.zeros((2, 0), int), 2, InvalidArgumentError, "at least one row and one token"),
    (np.full((1, 3), VOCAB), 2, InvalidArgumentError, r"prompt_ids must be in \[0, 11\)"),
    (np.zeros((1, 3)), 2, InvalidArgumentError, "integer token ids"),
    (np.zeros((1, 3), int), 0, InvalidArgumentError, "^n_tokens must be"),
])
def test_bad_arguments_are_named(model, prompt, n_tokens, error, match):
    with pytest.raises(error, match=match):
        km.generate_sequence(model, prompt, n_tokens, use_cache=False)


def test_bad_sampler_seed_and_models_are_refused(model):
    prompt = np.zeros((1, 2), int)
    with pytest.raises(InvalidArgumentError, match="sampler must be a kerasmusic.Sampler"):
        km.generate_sequence(model, prompt, 2, sampler=0.5)
    with pytest.raises(InvalidArgumentError, match="^seed must be"):
        km.generate_sequence(model, prompt, 2, seed=-1)
    two = km.build_music_transformer((5, 4), max_len=8, n_layers=1, d_model=4, n_heads=1)
    with pytest.raises(km.KerasMusicError, match="single-stream"):
        km.generate_sequence(two, prompt, 2)
    lstm = km.create_network(5, 4, embed_size=2, rnn_units=2)
    with pytest.raises(km.KerasMusicError, match="not a Music Transformer"):
        km.generate_sequence(lstm, prompt, 2)


def test_other_numbers_and_lengths_reuse_the_traced_loop():
    model = km.build_music_transformer(VOCAB, max_len=10, n_layers=1, d_model=4, n_heads=1)
    prompts = _prompts(2, 3)
    for seed, sampler in enumerate([km.Sampler(0.0), km.Sampler(0.7), km.Sampler(1.9)]):
        km.generate_sequence(model, prompts, 5 + seed, use_cache=False, sampler=sampler,
                             seed=seed, jit_compile=False)
    loops = model._kerasmusic_generation_loops.values()
    assert [f.experimental_get_tracing_count() for f in loops] == [1]
