"""Repeated generation with the same shapes reuses its traced loops (no tf.function retracing).

A new temperature, top-k / top-p value, seed or ``min_steps`` is an input of the
compiled loop, not a constant traced into a new one (which is what made TensorFlow
warn "triggered tf.function retracing" after a few calls). The loops run without XLA
here (``jit_compile=False``): tracing is the same, the test just skips the compiles.
"""

import numpy as np
import pytest

import kerasmusic as km
from kerasmusic.models.char_rnn import build_char_rnn
from kerasmusic.models.event_lstm import build_event_lstm
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn


def _traces(model) -> list[int]:
    """The trace count of every compiled generation function kept on ``model``."""
    return [f.experimental_get_tracing_count() for name, cache in vars(model).items()
            if name.startswith("_kerasmusic_") for f in cache.values()]


def _note_lstm():
    model = km.create_network(9, 5, embed_size=3, rnn_units=4)
    pw = np.ones((2, 6), np.int32)

    def run(sampler, seed):
        km.generate_ids(model, pw, pw, 10, pitch_sampler=sampler, duration_sampler=sampler,
                        seed=seed, min_steps=seed % 3, jit_compile=False)
    return model, run


def _char_rnn():
    model = build_char_rnn(7, embed_size=3, rnn_units=4)

    def run(sampler, seed):
        km.generate_char_ids(model, np.ones((2, 3), np.int32), 10, sampler=sampler, seed=seed,
                             jit_compile=False)
    return model, run


def _event_lstm():
    model = build_event_lstm(units=4)

    def run(sampler, seed):
        km.generate_event_ids(model, np.ones((2, 4, 3), np.int32), 10, note_sampler=sampler,
                              time_sampler=sampler, seed=seed, jit_compile=False)
    return model, run


def _pianoroll():
    model = build_pianoroll_rnn(12, units=4, n_layers=1)

    def run(sampler, seed):
        km.generate_frames(model, np.zeros((2, 3, 12), np.float32), 10,
                           temperature=sampler.temperature, seed=seed, jit_compile=False)
    return model, run


# The traces expected: the loop, and for the char-RNN also its priming pass.
@pytest.mark.parametrize("family, expected", [(_note_lstm, [1]), (_char_rnn, [1, 1]),
                                              (_event_lstm, [1]), (_pianoroll, [1])])
def test_same_shapes_trace_once(family, expected):
    model, run = family()
    settings = [km.Sampler(0.0), km.Sampler(0.5), km.Sampler(1.0), km.Sampler(1.7)]
    for seed, sampler in enumerate(settings):
        run(sampler, seed)
    assert _traces(model) == expected


def test_top_k_and_top_p_values_are_inputs_too():
    model, run = _note_lstm()
    for seed, (k, p) in enumerate([(2, 0.5), (3, 0.9), (5, 0.7), (4, 1.0)]):
        run(km.Sampler(0.8, top_k=k, top_p=p), seed)
    assert _traces(model) == [1]
