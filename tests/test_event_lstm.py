import warnings
from fractions import Fraction

import keras
import numpy as np
import pytest
import tensorflow as tf
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.data.events import (
    EventEncoding,
    event_arrays_datasets,
    event_dataset,
    event_windows,
    make_event_datasets,
)
from kerasmusic.errors import EncodingError
from kerasmusic.generation.event_lstm import (
    generate_event_ids,
    generate_event_ids_reference,
    generate_events,
)
from kerasmusic.models.event_lstm import build_event_lstm
from kerasmusic.sampling import Sampler
from kerasmusic.training.event_lstm import train_event_lstm

F = Fraction


def _notes(piece):
    return [(n.start, n.duration, n.pitch, n.velocity) for n in piece.notes]


@pytest.mark.parametrize("time, expected", [
    (0, 0), (F(1, 480), 1), (F(1, 8), 1), (F(3, 16) - F(1, 1000), 1), (F(3, 16), 2),
    (F(1, 4), 2), (F(7, 24), 3), (F(1, 3), 3), (F(5, 12), 4), (F(1, 2), 4), (F(2, 3), 5),
    (F(17, 24), 6), (F(3, 4), 6), (F(7, 8), 7), (1, 7), (F(5, 4), 8), (F(3, 2), 8), (2, 9),
    (F(5, 2), 10), (3, 10), (F(7, 2), 11), (4, 11), (100, 11),
])
def test_time_classes_by_hand(time, expected):
    assert EventEncoding().time_class(time) == expected


def test_time_class_values_and_edges():
    enc = EventEncoding()
    assert enc.n_times == 12 and enc.sizes == (88, 128, 12)
    assert [enc.time_value(c) for c in range(12)] == [
        0, F(1, 8), F(1, 4), F(1, 3), F(1, 2), F(2, 3), F(3, 4), 1, F(3, 2), 2, 3, 4]
    assert enc.time_edges == [F(3, 16), F(7, 24), F(5, 12), F(7, 12), F(17, 24), F(7, 8),
                              F(5, 4), F(7, 4), F(5, 2), F(7, 2)]
    for c in range(12):  # every value lands in its own class: 0 only in class 0
        assert enc.time_class(enc.time_value(c)) == c
    tolerant = EventEncoding(chord_tolerance=F(1, 32))
    assert tolerant.time_class(F(1, 48)) == 0 and tolerant.time_class(F(1, 32)) == 1
    with pytest.raises(km.KerasMusicError, match="increasing"):
        EventEncoding(time_values=["1/2", "1/4"])
    with pytest.raises(km.KerasMusicError, match="time class"):
        enc.time_value(12)


def test_encode_by_hand():
    # a C major chord held for a quarter, then G4 for a half note after a quarter rest
    piece = make_piece([(60, 0, 1, 90), (64, 0, 1, 70), (67, 2, 2, 100)])
    events = EventEncoding().encode(piece)
    assert events.dtype == np.int32
    assert events.tolist() == [
        [60 - 21, 90, 0], [64 - 21, 70, 0],   # two ons at time 0
        [60 - 21, 0, 7], [64 - 21, 0, 0],     # both offs one quarter later (class 7 = 1)
        [67 - 21, 100, 7],                    # the rest: one more quarter
        [67 - 21, 0, 9],                      # off after a half note (class 9 = 2)
    ]


def test_round_trip_of_a_hand_made_piece():
    melody = [(72, 0, F(1, 2), 90), (74, F(1, 2), F(1, 2), 80), (76, 1, F(1, 3), 60),
              (77, F(4, 3), F(2, 3), 61), (79, 2, 4, 127), (21, 7, F(1, 8), 1)]
    bass = [(48, 0, 2, 50), (43, 2, 2, 55), (108, 6, 1, 70)]
    piece = make_piece(melody, bass, name="hand.mid")
    enc = EventEncoding()
    back = enc.decode(enc.encode(piece))
    assert _notes(back) == _notes(piece)
    config = enc.get_config()
    assert EventEncoding.from_config(config).get_config() == config


def test_repeated_and_overlapping_notes_of_one_key():
    # a re-struck key: the off of the first and the on of the second share an instant
    repeated = make_piece([(60, 0, 1), (60, 1, 1)])
    events = EventEncoding().encode(repeated)
    assert events[:, 1].tolist() == [80, 0, 80, 0] and events[:, 2].tolist() == [0, 7, 0, 7]
    assert _notes(EventEncoding().decode(events)) == _notes(repeated)
    # two voices in unison overlap: the first is cut where the second starts
    unison = make_piece([(60, 0, 2)], [(60, 1, 2)], [(60, 1, 1, 30)])
    back = EventEncoding().decode(EventEncoding().encode(unison))
    assert _notes(back) == [(0, 1, 60, 80), (1, 2, 60, 80)]


def test_rounding_errors_do_not_pile_up():
    quintuplets = make_piece([(60 + k % 3, F(k, 5), F(1, 5)) for k in range(40)])
    back = EventEncoding().decode(EventEncoding().encode(quintuplets))
    onsets = [n.start for n in back.notes]
    assert len(onsets) == 40
    assert max(abs(a - F(k, 5)) for k, a in enumerate(onsets)) <= F(1, 8)


def test_decode_tolerates_odd_model_output():
    enc = EventEncoding()
    events = [[39, 0, 4], [39, 80, 0], [39, 90, 0], [41, 80, 4], [39, 80, 4]]
    notes = _notes(enc.decode(events))
    # the off of a silent key and a second on at the same instant are ignored; a
    # re-strike ends the sounding note; notes still on at the end last until the last
    # event, at least the shortest time value
    assert notes == [(F(1, 2), 1, 60, 80), (1, F(1, 2), 62, 80), (F(3, 2), F(1, 8), 60, 80)]
    with pytest.raises(EncodingError, match="velocity classes must be in 0..127"):
        enc.decode([[0, 128, 0]])
    with pytest.raises(EncodingError, match="shape"):
        enc.decode(np.zeros((3, 2)))


def test_pieces_without_notes_in_range_are_clear_errors():
    with pytest.raises(EncodingError, match=r"drums\.mid: no pitched notes in the key range"):
        EventEncoding().encode(make_piece(make_track([(36, 0, 1)], is_drum=True),
                                          name="drums.mid"))
    with pytest.raises(EncodingError, match=r"far\.mid: no notes in tracks \[1\]"):
        EventEncoding(tracks=[1]).encode(make_piece([(60, 0, 1)], [(5, 0, 1)], name="far.mid"))
    with pytest.warns(UserWarning, match="1 notes outside"):
        assert len(EventEncoding().encode(make_piece([(60, 0, 1), (120, 0, 1)]))) == 2


def test_one_hot_is_the_seed_slot():
    enc = EventEncoding()
    events = enc.encode(make_piece([(60, 0, 1, 90), (64, 0, 1, 70)]))
    slots = enc.one_hot(events)
    assert slots.shape == (4, 88 + 128 + 12)
    np.testing.assert_array_equal(slots.sum(1), 3)
    assert slots[0, 60 - 21] == 1 and slots[0, 88 + 90] == 1 and slots[0, 88 + 128 + 0] == 1


def test_windows_of_30_with_next_event_targets():
    events = np.arange(40 * 3, dtype=np.int32).reshape(40, 3)
    windows = event_windows(events, 30)
    assert windows.shape == (10, 31, 3)
    np.testing.assert_array_equal(windows[3, :30], events[3:33])
    np.testing.assert_array_equal(windows[3, 30], events[33])
    assert event_windows(events[:30], 30).shape == (0, 31, 3)

    piece = make_piece([(40 + i % 20, i, 1, 60 + i) for i in range(20)])
    x, y = next(iter(event_dataset([piece], EventEncoding(), batch_size=100, shuffle=False)))
    assert x.shape == (10, 30, 3) and set(y) == {"note", "velocity", "time"}
    encoded = EventEncoding().encode(piece)
    np.testing.assert_array_equal(x[4], encoded[4:34])
    assert [int(y[h][4]) for h in ("note", "velocity", "time")] == encoded[34].tolist()


def test_nine_to_one_split_by_piece():
    pieces = [make_piece([(30 + 5 * i + j % 3, j, 1) for j in range(20)], name=f"p{i}")
              for i in range(10)]
    train, val = make_event_datasets(pieces, EventEncoding(), seed=3)

    def keys(ds):
        return {int(k) for x, _ in ds for k in np.unique(x.numpy()[..., 0])}

    assert len(keys(train)) == 27 and len(keys(val)) == 3 and not keys(train) & keys(val)
    with pytest.raises(km.KerasMusicError, match="more than seq_len=50"), \
            pytest.warns(UserWarning, match="2 of 2 pieces have seq_len=50 events or fewer"):
        make_event_datasets(pieces[:2], EventEncoding(seq_len=50))
    # Transposed copies are trained on but not counted as pieces in that warning.
    enc = EventEncoding(seq_len=10)
    split = km.split_encoded_pieces([*pieces[:3], make_piece([(60, 0, 1)], name="short")],
                                    enc, 0.25, seed=0, transpose=km.DEFAULT_SHIFTS)
    assert len(split.augmented) > 3 * len(split.train)
    with pytest.warns(UserWarning, match="1 of 4 pieces have seq_len=10"):
        train_ds, _ = event_arrays_datasets(split.train, split.validation, enc, 1000,
                                            copies=split.augmented[len(split.train):])
    assert len(next(iter(train_ds))[0]) == sum(max(0, len(a) - 10)
                                               for a in split.augmented)


def test_builder_heads_losses_and_l1():
    model = build_event_lstm(units=4, dropout=0.5, l1=1e-3)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)
    assert model.output_names == ["note", "velocity", "time"]
    x = np.random.default_rng(0).integers(0, 12, (3, 30, 3)).astype(np.int32)
    note, velocity, time = model.predict(x, verbose=0)
    assert (note.shape, velocity.shape, time.shape) == ((3, 88), (3, 128), (3, 12))
    np.testing.assert_allclose(time.sum(-1), 1, rtol=1e-5)
    assert len(model.losses) == 3  # L1 on the LSTM kernels and the Dense kernel
    y = {"note": np.array([1, 2, 3]), "velocity": np.array([0, 80, 0]), "time": np.zeros(3)}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    penalty = float(sum(model.losses))
    assert penalty > 0
    np.testing.assert_allclose(logs["loss"], logs["note_loss"] + logs["velocity_loss"]
                               + logs["time_loss"] + penalty, rtol=1e-4)
    assert build_event_lstm(units=4, l1=0).losses == []
    with pytest.raises(km.KerasMusicError, match="dropout"):
        build_event_lstm(dropout=1.5)
    # LSTM(256) over 228 inputs: 4 * 256 * (228 + 256 + 1); Dense(228): 257 * 228
    assert build_event_lstm().count_params() == 4 * 256 * 485 + 257 * 228 == 555_236


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained a few epochs on the Nottingham tunes bundled with music21."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KERASMUSIC_CACHE", str(tmp_path_factory.mktemp("cache")))
    corpus = km.load_corpus("nottingham-dataset", progress=False)
    result = train_event_lstm(corpus.pieces, units=16, dropout=0.0, epochs=8, batch_size=16,
                              learning_rate=0.01, seed=0, verbose=0, transpose=None,
                              patience=None)
    mp.undo()
    return corpus.pieces, result


def test_loss_falls_on_bundled_nottingham_tunes(trained):
    pieces, result = trained
    history = result.history
    assert result.initial_val_loss > 10  # about log(88) + log(128) + log(12)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    # two tunes in different keys: the held-out one gains early, then overfitting sets in
    assert min(history["val_loss"]) < 0.85 * result.initial_val_loss
    assert {"note_loss", "velocity_loss", "time_loss", "val_time_acc"} <= set(history)


def test_compiled_loop_matches_the_plain_loop_and_is_seeded(trained):
    pieces, result = trained
    window = result.encoding.encode(pieces[0])[:30]
    samplers = dict(note_sampler=Sampler(1.0), velocity_sampler=Sampler(0.7, method="gumbel"),
                    time_sampler=Sampler(1.0, top_p=0.9))
    fast = generate_event_ids(result.model, window, 20, seed=5, **samplers)
    slow = generate_event_ids_reference(result.model, window, 20, seed=5, **samplers)
    assert fast.shape == (1, 20, 3)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(generate_event_ids(result.model, window, 20, seed=5,
                                                     **samplers), fast)
    assert not np.array_equal(generate_event_ids(result.model, window, 20, seed=6, **samplers),
                              fast)
    greedy = dict(note_sampler=Sampler.greedy(), velocity_sampler=Sampler.greedy(),
                  time_sampler=Sampler.greedy())
    np.testing.assert_array_equal(generate_event_ids(result.model, window, 10, seed=1, **greedy),
                                  generate_event_ids(result.model, window, 10, seed=2, **greedy))


def test_generated_events_decode_to_midi_that_reads_back(trained, tmp_path):
    pieces, result = trained
    out = generate_events(result.model, result.encoding, pieces[1], 40, temperature=0.8,
                          n_pieces=2, seed=1)
    primer_notes = len(result.encoding.decode(result.encoding.encode(pieces[1])).notes)
    assert len(out) == 2
    for i, piece in enumerate(out):
        assert len(piece.notes) > primer_notes
        km.write_midi(piece, tmp_path / f"e{i}.mid")
        back = km.read_midi(tmp_path / f"e{i}.mid")
        assert _notes(back) == _notes(piece)
    assert _notes(out[0]) != _notes(out[1])
    alone = generate_events(result.model, result.encoding, pieces[1], 10, include_primer=False)
    assert len(alone[0].notes) <= 10


def test_primer_too_short_and_bad_ids_are_clear_errors(trained):
    pieces, result = trained
    short = make_piece([(60 + i, i, 1) for i in range(10)], name="short.mid")
    with pytest.raises(EncodingError, match=r"short\.mid: the primer is too short: 20 events, "
                                            r"the model reads windows of 30"):
        generate_events(result.model, result.encoding, short, 8)
    with pytest.raises(EncodingError, match="note ids must be in 0..87"):
        generate_event_ids(result.model, np.full((30, 3), 88), 4)
    with pytest.raises(km.VocabularyMismatchError, match=r"\(88, 128, 12\)"):
        generate_events(result.model, EventEncoding(n_pitches=60), pieces[0], 4)


@pytest.mark.parametrize("name", ["events.keras", "events.h5"])
def test_save_load_round_trip_with_safe_mode(trained, tmp_path, name):
    pieces, result = trained
    km.save_model(result.model, tmp_path / name, result.encoding)
    model = km.load_model(tmp_path / name)  # safe_mode=True inside
    window = result.encoding.encode(pieces[0])[None, :30]
    for a, b in zip(model.predict(window, verbose=0), result.model.predict(window, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert km.load_encoding(tmp_path / name).get_config() == result.encoding.get_config()
    np.testing.assert_array_equal(generate_event_ids(model, window, 6, seed=2,
                                                     jit_compile=False),
                                  generate_event_ids(result.model, window, 6, seed=2))
    with pytest.raises(km.VocabularyMismatchError):
        km.load_model(tmp_path / name, EventEncoding(time_values=["1/4", "1/2", "1"]))


def test_savedmodel_export_serves_without_kerasmusic(trained, tmp_path):
    pieces, result = trained
    km.save_model(result.model, tmp_path / "events_savedmodel", result.encoding)
    assert (tmp_path / "events_savedmodel" / "encoding.json").exists()
    served = tf.saved_model.load(str(tmp_path / "events_savedmodel"))
    window = result.encoding.encode(pieces[0])[None, :30]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = served.serve(tf.constant(window))
    for a, b in zip(outputs, result.model.predict(window, verbose=0)):
        np.testing.assert_allclose(a.numpy(), b, atol=1e-6)
