"""Generating pieces and accompaniments from Music Transformers on REMI tokens."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.cli import main
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.music_transformer import last_step_model


def _encoding(**kwargs) -> km.RemiEncoding:
    return km.RemiEncoding(n_tracks=2, time_signatures=["4/4"], seq_len=32, **kwargs)


def _model(encoding, end_bias: float | None = None, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    model = km.build_music_transformer(encoding.vocab_size, max_len=encoding.seq_len,
                                       n_layers=1, d_model=16, n_heads=2, dropout=0.0)
    if end_bias is not None:  # make <end> likely, to see pieces end
        head = model.get_layer(model.output_names[0])
        bias = np.zeros(encoding.vocab_size, np.float32)
        bias[encoding.end_id] = end_bias
        head.bias.assign(bias)
    return model


def _notes(track) -> list[tuple]:
    return [(n.start, n.duration, n.pitch) for n in track.notes]


MELODY = make_track([(60 + (i * 3) % 7, i, 1) for i in range(10)], name="melody", program=73)
BASS = make_track([(43 + i % 3, 2 * i, 2) for i in range(5)], name="bass", program=32)


def test_generate_remi_shapes_and_seed_determinism():
    enc = _encoding()
    model = _model(enc)
    pieces, lengths = km.generate_remi(model, enc, 40, n_pieces=3, seed=5, return_lengths=True)
    assert len(pieces) == 3 and all(isinstance(p, km.Piece) for p in pieces)
    assert all(0 <= n <= 40 for n in lengths)
    again = km.generate_remi(model, enc, 40, n_pieces=3, seed=5)
    assert again == pieces
    other = km.generate_remi(model, enc, 40, n_pieces=3, seed=6)
    assert other != pieces


@pytest.mark.slow
def test_longer_than_the_window_slides_and_the_cache_changes_nothing():
    enc = _encoding()
    model = _model(enc)
    cached, lengths = km.generate_remi(model, enc, 80, n_pieces=2, seed=1,
                                       return_lengths=True)
    assert max(lengths) > enc.seq_len  # past max_len: a sliding continuation
    assert km.generate_remi(model, enc, 80, n_pieces=2, seed=1, use_cache=False) == cached


def test_primer_continuation_starts_with_the_primers_notes(tmp_path):
    enc = _encoding()
    primer = make_piece(MELODY, BASS)
    km.write_midi(primer, tmp_path / "primer.mid")
    model = _model(enc)
    pieces = km.generate_remi(model, enc, 30, primer=primer, n_pieces=2, seed=0)
    for piece in pieces:
        by_name = {t.name: set(_notes(t)) for t in piece.tracks if not t.is_drum}
        assert set(_notes(MELODY)) <= by_name["Track 0"]
        assert set(_notes(BASS)) <= by_name["Track 1"]
    # a MIDI file primer (its notes on the grid) is the same primer
    assert km.generate_remi(model, enc, 30, primer=tmp_path / "primer.mid", n_pieces=2,
                            seed=0) == pieces


def test_end_token_stops_generation():
    enc = _encoding()
    model = _model(enc, end_bias=4.0)
    prompt = np.full((4, 1), enc.start_id)
    free = km.generate_sequence(model, prompt, 20, seed=3)
    stopped = km.generate_sequence(model, prompt, 20, seed=3, end_id=enc.end_id)
    ended = 0
    for row_free, row in zip(free, stopped):
        ends = np.flatnonzero(row_free == enc.end_id)
        if len(ends):
            ended += 1
            first = ends[0]
            np.testing.assert_array_equal(row[:first], row_free[:first])
            assert (row[first:] == enc.end_id).all()
        else:
            np.testing.assert_array_equal(row, row_free)
    assert ended  # the biased model ends some rows
    reference = km.generate_sequence_reference(model, prompt, 20, seed=3, end_id=enc.end_id)
    np.testing.assert_array_equal(reference, stopped)
    pieces, lengths = km.generate_remi(model, enc, 60, n_pieces=4, seed=0, return_lengths=True)
    assert min(lengths) < 60 and len(pieces) == 4


def test_ungrammatical_sequences_decode_without_error():
    enc = _encoding(condition_track=0)
    # a Pitch without Bar, Position or Track: track 0, time 0
    piece = enc.from_tokens(["Pitch_60", "Duration_8"])
    assert _notes(piece.tracks[0]) == [(Fraction(0), Fraction(1), 60)]
    # no pitch before the duration, a pitch without duration, <sep> and <start> mid-stream
    piece = enc.from_tokens(["Track_1", "Velocity_80", "Duration_4", "<sep>", "Bar",
                             "Position_8", "<start>", "Pitch_62", "Bar", "Pitch_64",
                             "Duration_4"])
    assert [(t.name, _notes(t)) for t in piece.tracks] == [
        ("Track 1", [(Fraction(4), Fraction(1, 2), 64)])]
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids = rng.integers(0, enc.vocab_size, 200)
        assert isinstance(enc.decode(ids), km.Piece)


def test_conditional_examples_layout():
    enc = _encoding(condition_track=0, condition_bars=1)
    plain = _encoding()
    assert enc.vocab_size == plain.vocab_size + 1 and enc.tokens[-1] == "<sep>"
    assert enc.tokens[:-1] == plain.tokens and plain.sep_id is None
    # a config saved before the fields existed loads as the plain encoding
    old = {k: v for k, v in plain.get_config().items()
           if k not in ("condition_track", "condition_bars")}
    assert km.RemiEncoding.from_config(old) == plain
    piece = make_piece(MELODY, BASS)
    examples = enc.conditional_sequences(piece)
    assert len(examples) == 3  # 10 quarters in bars of 4
    assert [a.tolist() for a in enc.model_sequences(piece)] == [a.tolist() for a in examples]
    for i, ids in enumerate(examples):
        assert ids[0] == enc.start_id and ids[-1] == enc.end_id
        (sep,) = np.flatnonzero(ids == enc.sep_id)
        given, rest = enc.ids_to_tokens(ids[1:sep]), enc.ids_to_tokens(ids[sep + 1:-1])
        assert given[0] == "Bar" and rest[0] == "Bar"
        assert {t for t in given if t.startswith("Track_")} == {"Track_0"}
        assert "Track_0" not in rest
        start = Fraction(4 * i)
        want = [(s - start, d, p) for s, d, p in _notes(MELODY) if start <= s < start + 4]
        assert _notes(enc.decode(ids[1:sep]).tracks[0]) == want
        want = [(s - start, d, p) for s, d, p in _notes(BASS) if start <= s < start + 4]
        assert _notes(enc.decode(ids[sep + 1:]).tracks[0]) == want


def test_accompaniment_returns_the_given_track_unchanged(tmp_path):
    enc = _encoding(condition_track=0, condition_bars=1)
    model = _model(enc)
    piece = make_piece(MELODY, BASS)
    out = km.generate_accompaniment(model, enc, piece, track=0, n_pieces=2, seed=2)
    assert len(out) == 2
    for made in out:
        assert made.tracks[0] is MELODY or made.tracks[0] == MELODY
        assert all(t.name != "Track 0" for t in made.tracks[1:])
        assert made.tempo == piece.tempo and made.time_signature == piece.time_signature
    assert km.generate_accompaniment(model, enc, piece, n_pieces=2, seed=2) == out
    # the given track may be another track of the file (here the bass)
    assert km.generate_accompaniment(model, enc, piece, track=1, seed=0)[0].tracks[0] == BASS
    with pytest.raises(KerasMusicError, match="not trained to accompany"):
        km.generate_accompaniment(_model(_encoding()), _encoding(), piece)
    with pytest.raises(KerasMusicError, match="track must be"):
        km.generate_accompaniment(model, enc, piece, track=2)


def test_cli_generate_writes_midi_that_reads_back(tmp_path, capsys):
    enc = _encoding()
    km.save_model(last_step_model(_model(enc)), tmp_path / "remi.keras", enc)
    km.write_midi(make_piece(MELODY), tmp_path / "primer.mid")
    out = tmp_path / "out.mid"
    assert main(["generate", "--model", str(tmp_path / "remi.keras"), "--out", str(out),
                 "--n-tokens", "40", "--seed", "1", "--primer",
                 str(tmp_path / "primer.mid")]) == 0
    assert "tokens" in capsys.readouterr().out
    back = km.read_midi(out)
    assert set(_notes(MELODY)) <= {n for t in back.tracks for n in _notes(t)}


def test_cli_generate_accompaniment(tmp_path, capsys):
    enc = _encoding(condition_track=0, condition_bars=1)
    model_path = tmp_path / "acc.keras"
    km.save_model(last_step_model(_model(enc)), model_path, enc)
    km.write_midi(make_piece(MELODY), tmp_path / "melody.mid")
    out = tmp_path / "acc.mid"
    assert main(["generate", "--model", str(model_path), "--out", str(out),
                 "--condition", str(tmp_path / "melody.mid"), "--track", "0"]) == 0
    back = km.read_midi(out)
    assert _notes(back.tracks[0]) == _notes(MELODY)
    assert main(["generate", "--model", str(model_path), "--out", str(out)]) == 2
    assert "--condition" in capsys.readouterr().err


@pytest.mark.slow
def test_train_an_accompaniment_model(tmp_path):
    pieces = km.load_corpus("chorales", limit=3, progress=False).pieces
    result = km.train_music_transformer(
        pieces, tokens="remi", condition_track=0, condition_bars=1, seq_len=128, n_layers=1,
        d_model=16, n_heads=2, epochs=2, batch_size=16, validation_fraction=0.34, verbose=0,
        transpose=None, warmup_steps=2)
    enc = result.encoding
    assert enc.condition_track == 0 and enc.sep_id == enc.vocab_size - 1
    assert result.quality.streams[0].model == pytest.approx(min(result.history["val_loss"]),
                                                            rel=1e-3)
    held = result.validation_pieces[0]
    made = km.generate_accompaniment(result.model, enc, held, seed=0)[0]
    assert made.tracks[0] == held.tracks[0]


def test_remi_quality_scores_every_held_out_id_and_end_once():
    enc = _encoding()
    model = _model(enc)
    train = [make_piece(MELODY, BASS, name="a"), make_piece(BASS, name="b")]
    held = [make_piece(MELODY, name="c"), make_piece(MELODY, BASS, name="d")]
    report = km.remi_quality(model, enc, train, held)
    stream = report["remi"]
    assert stream.n_targets == sum(len(enc.encode(p)) + 1 for p in held)  # ids and <end>
    assert report.data == "2 held-out pieces"
    assert stream.bigram < stream.unigram  # the count models see the grammar
    # Untrained: the model is about as good as a uniform guess over the vocabulary.
    assert abs(stream.model - np.log(enc.vocab_size)) < 0.5
    assert "2 training pieces" in report.notes[0]
