import numpy as np
import pytest
from builders import make_piece

import kerasmusic as km


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(0)
    return km.create_network(30, 8, embed_size=6, rnn_units=12)


@pytest.mark.parametrize("sampler", [km.Sampler(0), km.Sampler(1.0), km.Sampler(0.8, top_k=4),
                                     km.Sampler(1.3, top_p=0.9),
                                     km.Sampler(0.9, top_k=5, method="gumbel")])
def test_compiled_loop_equals_straightforward_loop(model, sampler):
    rng = np.random.default_rng(0)
    pw, dw = rng.integers(1, 30, (2, 10)), rng.integers(1, 8, (2, 10))
    kwargs = dict(pitch_sampler=sampler, duration_sampler=sampler, seed=5, stop_at_start=False)
    fast = km.generate_ids(model, pw, dw, 12, **kwargs)
    slow = km.generate_ids_reference(model, pw, dw, 12, **kwargs)
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    assert fast[0].shape == (2, 12)


def test_stop_on_start_fills_the_rest_with_start(model):
    rng = np.random.default_rng(1)
    pw, dw = rng.integers(1, 30, (4, 6)), rng.integers(1, 8, (4, 6))
    # A greedy sampler that always says "start" after the first step would be artificial;
    # instead run long enough at high temperature that some rows sample id 0.
    pitches, _ = km.generate_ids(model, pw, dw, 200, pitch_sampler=km.Sampler(3.0), seed=2)
    slow, _ = km.generate_ids_reference(model, pw, dw, 200, pitch_sampler=km.Sampler(3.0),
                                        seed=2)
    np.testing.assert_array_equal(pitches, slow)
    for row in pitches:
        zeros = np.flatnonzero(row == 0)
        assert zeros.size, "each row should have ended within 200 steps at temperature 3"
        assert (row[zeros[0]:] == 0).all()


def test_generate_returns_pieces_reproducibly():
    piece = make_piece([(60, 0, 1), (62, 1, 1), (64, 2, 1), (65, 3, 2), (67, 6, 1)])
    enc = km.NoteDurationEncoding(seq_len=4).fit([piece])
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    a = km.generate(model, enc, 12, temperature=1.0, n_pieces=3, seed=4, stop_at_start=False)
    b = km.generate(model, enc, 12, temperature=1.0, n_pieces=3, seed=4, stop_at_start=False)
    assert len(a) == 3 and [p.notes for p in a] == [p.notes for p in b]
    primed = km.generate(model, enc, 5, primer=[("C4", "1"), ("D4", "1")], seed=1,
                         stop_at_start=False)[0]
    assert [n.pitch for n in primed.notes[:2]] == [60, 62]
    # A primer token the vocabulary lacks reaches the model as <unk>; the primer is kept.
    unseen = km.generate(model, enc, 5, primer=[("A4", "1")], seed=1, stop_at_start=False)[0]
    assert unseen.notes[0].pitch == 69


def test_mismatched_encoding_is_refused():
    enc = km.NoteDurationEncoding(seq_len=4).fit([make_piece([(60, 0, 1)])])
    model = km.create_network(enc.n_pitches + 1, enc.n_durations, embed_size=4, rnn_units=8)
    with pytest.raises(km.VocabularyMismatchError, match="not the one the model was trained"):
        km.generate(model, enc, 4)


def test_no_event_is_lost_to_a_start_duration(model):
    rng = np.random.default_rng(3)
    pw, dw = rng.integers(1, 30, (4, 6)), rng.integers(1, 8, (4, 6))
    hot = km.Sampler(3.0)
    pitches, durations = km.generate_ids(model, pw, dw, 60, pitch_sampler=hot,
                                         duration_sampler=hot, seed=9, stop_at_start=False)
    assert ((pitches == 0) == (durations == 0)).all()


def test_bad_generation_arguments_are_clear_errors(model):
    enc = km.NoteDurationEncoding(seq_len=4).fit([make_piece([(60, 0, 1)])])
    small = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    with pytest.raises(km.KerasMusicError, match="n_pieces"):
        km.generate(small, enc, 4, n_pieces=0)
    with pytest.raises(km.KerasMusicError, match="pitch ids must be in"):
        km.generate_ids(model, np.full((1, 4), 999), np.zeros((1, 4)), 3)


def test_min_steps_rules_out_the_end_in_both_loops(model):
    rng = np.random.default_rng(1)
    pw, dw = rng.integers(1, 30, (4, 6)), rng.integers(1, 8, (4, 6))
    kwargs = dict(pitch_sampler=km.Sampler(3.0), seed=2, min_steps=40)
    pitches, durations = km.generate_ids(model, pw, dw, 120, **kwargs)
    slow, _ = km.generate_ids_reference(model, pw, dw, 120, **kwargs)
    np.testing.assert_array_equal(pitches, slow)
    assert (pitches[:, :40] != 0).all() and (durations[:, :40] != 0).all()
    assert (pitches[:, 40:] == 0).any()  # the end comes after step 40 (temperature 3)


def test_generate_reports_lengths_and_min_events_reaches_n_events():
    piece = make_piece([(60, 0, 1), (62, 1, 1), (64, 2, 1), (65, 3, 2), (67, 6, 1)])
    enc = km.NoteDurationEncoding(seq_len=4).fit([piece])
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    pieces, lengths = km.generate(model, enc, 30, temperature=3.0, n_pieces=6, seed=3,
                                  return_lengths=True)
    assert len(pieces) == len(lengths) == 6 and all(0 <= n <= 30 for n in lengths)
    assert min(lengths) < 30  # an untrained model at temperature 3 ends some pieces early
    full, lengths = km.generate(model, enc, 30, temperature=3.0, n_pieces=6, seed=3,
                                min_events=30, return_lengths=True)
    assert lengths == [30] * 6
    assert all(len(p.notes) > 0 for p in full)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_events=0), "n_events"), (dict(n_events=4, min_events=5), "min_events"),
    (dict(n_events=4, n_pieces=0), "n_pieces"), (dict(n_events=4, temperature=-1), "temperature"),
    (dict(n_events=4, top_p=1.5), "top_p"), (dict(n_events=4, top_k=0), "top_k"),
    (dict(n_events=4, tempo=0), "tempo"),
])
def test_generate_names_the_bad_argument(kwargs, name):
    enc = km.NoteDurationEncoding(seq_len=4).fit([make_piece([(60, 0, 1)])])
    small = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    with pytest.raises(km.InvalidArgumentError, match=f"^{name} must be"):
        km.generate(small, enc, **kwargs)
