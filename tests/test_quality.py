"""Held-out quality reports: count baselines worked by hand, the model's NLL, unknown tokens."""

import math
import os

import numpy as np
import pytest
from builders import make_piece

import kerasmusic as km
from kerasmusic.quality import QualityReport, StreamQuality, ngram_nll


def test_bigram_and_unigram_match_a_hand_worked_example():
    # Counted pairs (context -> target): 0->1, 1->2, 2->1, 1->0; scored: 0->1, 1->2, 2->0.
    train, heldout = [[1, 2, 1, 0]], [[1, 2, 0]]
    bigram, k = ngram_nll(train, heldout, 3, order=2, k=1.0)
    expected = -(math.log(2 / 4) + math.log(2 / 5) + math.log(1 / 4)) / 3
    assert k == 1.0 and bigram == pytest.approx(expected)
    unigram, _ = ngram_nll(train, heldout, 3, order=1, k=1.0)
    assert unigram == pytest.approx(-(math.log(3 / 7) + 2 * math.log(2 / 7)) / 3)
    best, best_k = ngram_nll(train, heldout, 3, order=2)
    assert best <= bigram and best_k in km.quality.SMOOTHING_GRID
    assert best == pytest.approx(ngram_nll(train, heldout, 3, order=2, k=best_k)[0])


def test_pair_counts_equal_the_sequence_form():
    # The same pairs as above, given as (context, target) arrays: a text stream's form.
    train_ctx, train_tgt = [0, 1, 2, 1], [1, 2, 1, 0]
    for order in (1, 2):
        pairs = km.pair_ngram_nll(train_ctx, train_tgt, [0, 1, 2], [1, 2, 0], 3, order=order,
                                  k=1.0)
        assert pairs == ngram_nll([[1, 2, 1, 0]], [[1, 2, 0]], 3, order=order, k=1.0)
    with pytest.raises(km.KerasMusicError, match="same length"):
        km.pair_ngram_nll([0, 1], [1], [0], [1], 3)


def test_backoff_bigram_matches_a_hand_worked_example():
    # Stream 0 1 0 1 1 (V=2): pairs 0->1 twice, 1->0 once, 1->1 once; unigram add-one.
    p_unigram = {0: (2 + 1) / (5 + 2), 1: (3 + 1) / (5 + 2)}
    p_01 = (2 + 5 * p_unigram[1]) / (2 + 5)
    p_10 = (1 + 5 * p_unigram[0]) / (2 + 5)
    nll = km.backoff_bigram_nll([0, 1, 0, 1, 1], 2, [0, 1], [1, 0])
    assert nll == pytest.approx(-(math.log(p_01) + math.log(p_10)) / 2)


def test_ngram_refuses_ids_outside_the_vocabulary_and_empty_heldout():
    with pytest.raises(km.KerasMusicError, match=r"\[0, 3\)"):
        ngram_nll([[1, 5]], [[1]], 3)
    with pytest.raises(km.KerasMusicError, match="no held-out"):
        ngram_nll([[1]], [[]], 3)


def test_report_table_and_json_round_trip(tmp_path):
    report = QualityReport("m", "2 held-out pieces", [
        StreamQuality("pitch", 1.0, 2.5, 1.6, 100),
        StreamQuality("duration", 0.9, 1.2, 0.8, 100, unknown_fraction=0.01)])
    assert not report.beats_bigram and report["pitch"].ratio == pytest.approx(1 / 1.6)
    table = report.table()
    assert "pitch" in table and "0.625" in table and "NOT beat" in table
    old_umask = os.umask(0o022)
    try:
        report.save(tmp_path / "q.json")
    finally:
        os.umask(old_umask)
    assert (tmp_path / "q.json").stat().st_mode & 0o777 == 0o644  # readable, as shipped
    back = QualityReport.load(tmp_path / "q.json")
    assert back == report and back.to_dict()["streams"][0]["ratio"] == pytest.approx(0.625)


def _melodies():
    rng = np.random.default_rng(0)
    pieces = []
    for i in range(12):
        pitches = 60 + np.cumsum(rng.choice([-2, -1, 1, 2], 24)) % 12
        pieces.append(make_piece([(int(p), j, 1) for j, p in enumerate(pitches)], name=f"m{i}"))
    return pieces


def test_note_lstm_quality_scores_the_same_targets_as_keras():
    pieces = _melodies()
    train, held = pieces[:9], pieces[9:]
    enc = km.NoteDurationEncoding(seq_len=4).fit(train)
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    report = km.note_lstm_quality(model, enc, train, held)
    val = km.note_duration_dataset(held, enc, batch_size=16, shuffle=False)
    losses = model.evaluate(val, return_dict=True, verbose=0)
    assert report["pitch"].model == pytest.approx(losses["pitch_loss"], rel=1e-4)
    assert report["duration"].model == pytest.approx(losses["duration_loss"], rel=1e-4)
    # The bigram is the count model of the encoded targets: piece then the closing start.
    targets = [enc.training_sequence(p)[0][4:] for p in held]
    counted = [enc.training_sequence(p)[0][4:] for p in train]
    assert report["pitch"].bigram == pytest.approx(
        ngram_nll(counted, targets, enc.n_pitches)[0])
    assert report["pitch"].n_targets == sum(len(t) for t in targets) == 3 * 25


def test_a_piece_with_unseen_chords_and_durations_encodes_and_is_scored():
    train = [make_piece([(60, 0, 1), (62, 1, 1), (64, 2, 1)]) for _ in range(3)]
    enc = km.NoteDurationEncoding(seq_len=4).fit(train)
    odd = make_piece([(60, 0, 1), (64, 0, 1), (67, 0, 1), (61, 1, "1/3"), (62, 2, 1)])
    pitch_ids, duration_ids = enc.encode(odd)
    unk_p, unk_d = enc.pitch_vocabulary.unknown_id, enc.duration_vocabulary.unknown_id
    assert pitch_ids[:2] == [unk_p, unk_p] and duration_ids[1] == unk_d
    assert enc.decode_ids(pitch_ids, duration_ids)[0] == (km.UNK, "1")
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    report = km.note_lstm_quality(model, enc, train, [odd])
    # chord, C#4, the rest before D4, D4, the end: 2 of 5 pitch targets unseen
    assert report["pitch"].unknown_fraction == pytest.approx(2 / 5)
    assert np.isfinite([s.model for s in report.streams]).all()


def test_split_chords_leave_no_held_out_chord_unknown():
    train = [make_piece([(48, 0, 1), (60, 0, 1), (50, 1, 1), (62, 1, 1), (52, 2, 1),
                         (64, 2, 1)]) for _ in range(3)]
    odd = make_piece([(48, 0, 1), (52, 0, 1), (64, 0, 1), (50, 1, 1), (60, 1, 1)])
    joined = km.NoteDurationEncoding(seq_len=4).fit(train)
    split = km.NoteDurationEncoding(seq_len=4, chords="split").fit(train)
    unk = joined.pitch_vocabulary.unknown_id
    assert joined.encode(odd)[0] == [unk, unk]  # two chords never seen as wholes
    assert split.pitch_vocabulary.unknown_id not in split.encode(odd)[0]
    model = km.create_network(split.n_pitches, split.n_durations, embed_size=4, rnn_units=8)
    report = km.note_lstm_quality(model, split, train, [odd])
    assert report["pitch"].unknown_fraction == 0 and report["pitch"].n_targets == 6


def test_rare_tokens_become_unknown_so_training_sees_it():
    pieces = [make_piece([(60, 0, 1), (62, 1, 1)]), make_piece([(60, 0, 1), (71, 1, 2)])]
    enc = km.NoteDurationEncoding(min_count=2).fit(pieces)
    assert "C4" in enc.pitch_vocabulary and "B4" not in enc.pitch_vocabulary
    assert enc.encode(pieces[1])[0][1] == enc.pitch_vocabulary.unknown_id
    back = km.NoteDurationEncoding.from_config(enc.get_config())
    assert back.pitch_vocabulary == enc.pitch_vocabulary and back.min_count == 2


def test_an_encoding_saved_without_unknown_still_refuses_unseen_tokens():
    enc = km.NoteDurationEncoding().fit([make_piece([(60, 0, 1)])])
    config = enc.get_config()
    for key in ("pitch_vocabulary", "duration_vocabulary"):
        config[key].pop("unknown")
        config[key]["tokens"].remove(km.UNK)
    old = km.NoteDurationEncoding.from_config(config)
    with pytest.raises(km.UnknownTokenError, match="'A4'"):
        old.encode(make_piece([(69, 0, 1)]))


def test_generation_never_samples_the_unknown_token():
    enc = km.NoteDurationEncoding(seq_len=4).fit(_melodies())
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    for head, vocab in (("pitch", enc.pitch_vocabulary), ("duration", enc.duration_vocabulary)):
        bias = np.zeros(len(vocab), np.float32)
        bias[vocab.unknown_id] = 30.0  # the model all but always predicts <unk>
        model.get_layer(head).bias.assign(bias)
    pitches, durations = km.generate_ids(
        model, *enc.primer(), 20, seed=3, stop_at_start=False,
        pitch_exclude=[enc.pitch_vocabulary.unknown_id],
        duration_exclude=[enc.duration_vocabulary.unknown_id])
    assert enc.pitch_vocabulary.unknown_id not in pitches
    assert enc.duration_vocabulary.unknown_id not in durations
    piece = km.generate(model, enc, 20, temperature=1.0, seed=3, stop_at_start=False)[0]
    assert len(piece.notes) > 0


def test_evaluate_quality_splits_as_training_did():
    pieces = _melodies()
    result = km.train_note_lstm(pieces, seq_len=4, embed_size=4, rnn_units=8, epochs=1,
                                validation_fraction=0.25, transpose=(-1, 1), verbose=0)
    again = km.evaluate_quality(result.model, result.encoding, pieces, validation_fraction=0.25)
    assert again.data == result.quality.data == "3 held-out pieces"
    for name in ("pitch", "duration"):
        assert again[name].model == pytest.approx(result.quality[name].model, rel=1e-5)
        assert again[name].bigram <= result.quality[name].bigram + 1e-9


def test_frame_count_models_match_a_hand_worked_example():
    # One key. Training targets after each context frame: 1->1, 1->0, 0->1.
    train, held = [np.array([[1], [1], [0], [1]])], [np.array([[0], [1]])]  # scored: 0->1
    unigram, _ = km.frame_count_nll(train, held, order=1, k=1.0)
    assert unigram == pytest.approx(-math.log((2 + 1) / (3 + 2)))
    bigram, _ = km.frame_count_nll(train, held, order=2, k=1.0)
    assert bigram == pytest.approx(-math.log((1 + 1) / (1 + 2)))  # after "off": 1 of 1 on
    # Keys add up: two identical keys double the NLL per frame.
    both = km.frame_count_nll([np.repeat(train[0], 2, 1)], [np.repeat(held[0], 2, 1)],
                              order=2, k=1.0)[0]
    assert both == pytest.approx(2 * bigram)


def test_pianoroll_quality_sums_the_keys_over_whole_held_out_rolls():
    import keras

    enc = km.FrameEncoding(step="1/2", lowest_pitch=60, n_pitches=12)
    model = km.build_pianoroll_rnn(12, units=4, n_layers=1)
    rng = np.random.default_rng(0)
    rolls = [(rng.random((n, 12)) < 0.2).astype(np.float32) for n in (9, 14, 5)]
    report = km.pianoroll_quality(model, enc, rolls, rolls[1:], batch_size=2)
    frames = report["frames"]
    assert frames.n_targets == 13 + 4 and frames.unit.startswith("nats/frame")
    bce = keras.losses.BinaryCrossentropy(reduction="sum")  # sums frames of per-key means
    total = sum(float(bce(r[None, 1:], model(r[None, :-1]))) for r in rolls[1:])
    assert frames.model == pytest.approx(12 * total / 17, rel=1e-4)
    assert frames.unigram > 0 and frames.bigram > 0
    assert not any("Boulanger" in n for n in report.notes)  # not quarter-note 88-key frames


def test_event_lstm_quality_scores_each_head_on_the_training_targets():
    import keras

    enc = km.EventEncoding(seq_len=4)
    model = km.build_event_lstm(*enc.sizes, units=4)
    pieces = [make_piece([(60 + (i * 7) % 12, i, 1) for i in range(n)], name=f"p{n}")
              for n in (12, 9)]
    arrays = [enc.encode(p) for p in pieces]
    report = km.event_lstm_quality(model, enc, arrays[:1], arrays[1:])
    assert [s.name for s in report.streams] == ["note", "velocity", "time"]
    windows = km.event_windows(arrays[1], 4)
    probs = model.predict(windows[:, :-1], verbose=0)
    for column, stream in enumerate(report.streams):
        p = probs[stream.name] if isinstance(probs, dict) else probs[column]
        expected = keras.losses.SparseCategoricalCrossentropy()(windows[:, -1, column], p)
        assert stream.n_targets == len(windows)
        assert stream.model == pytest.approx(float(expected), rel=1e-4)
