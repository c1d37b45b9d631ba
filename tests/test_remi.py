"""REMI-style multi-track tokens: grammar, round trips, fixed vocabulary, training."""

from __future__ import annotations

from fractions import Fraction

import mido
import numpy as np
import pytest
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.cli_parser import parser
from kerasmusic.data.remi_pipeline import remi_windows
from kerasmusic.errors import EncodingFileError


def _notes(track) -> list[tuple]:
    return sorted((n.start, n.duration, n.pitch, n.velocity) for n in track.notes)


def test_token_grammar_of_a_bar_and_a_half():
    piece = make_piece([(60, 0, 1, 80), (64, 1, Fraction(1, 2), 100), (67, 4, 2, 80)],
                       [(48, 0, 2, 64)], time_signature=(4, 4), tempo=96)
    enc = km.RemiEncoding(resolution=4)
    assert enc.to_tokens(piece) == [
        "Bar", "TimeSig_4/4", "Position_0", "Tempo_96",
        "Track_0", "Pitch_60", "Velocity_80", "Duration_4",
        "Track_1", "Pitch_48", "Velocity_64", "Duration_8",
        "Position_4", "Track_0", "Pitch_64", "Velocity_96", "Duration_2",
        "Bar", "Position_0", "Track_0", "Pitch_67", "Velocity_80", "Duration_8"]
    ids = enc.training_sequence(piece)
    assert ids[0] == enc.start_id and ids[-1] == enc.end_id


def test_empty_bars_and_the_tempo_changes_get_their_tokens():
    piece = make_piece([(60, 0, 1), (62, 9, 1)], time_signature=(3, 4))
    piece.tempo_changes = [(Fraction(7, 2), 90.0), (Fraction(4), 91.0), (Fraction(5), 120)]
    tokens = km.RemiEncoding(resolution=2).to_tokens(piece)
    assert tokens == ["Bar", "TimeSig_3/4", "Position_0", "Tempo_120", "Track_0", "Pitch_60",
                      "Velocity_80", "Duration_2", "Bar", "Position_1", "Tempo_88",
                      "Position_4", "Tempo_120", "Bar", "Bar", "Position_0", "Track_0",
                      "Pitch_62", "Velocity_80", "Duration_2"]


def _band_midi(path) -> None:
    """Piano, bass and drums in 3/4, 120 then 90 quarter notes per minute."""
    tpb = 480
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    meta = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=3, denominator=4),
                           mido.MetaMessage("set_tempo", tempo=500000),
                           mido.MetaMessage("set_tempo", tempo=666667, time=2 * 3 * tpb)])
    mid.tracks.append(meta)
    parts = [(0, 0, [(60, 0, 1, 90), (64, 0, 1, 70), (67, Fraction(3, 2), Fraction(1, 2), 110),
                     (72, 3, Fraction(3, 4), 40), (71, 6, 3, 127)]),
             (1, 33, [(36, 0, 3, 100), (43, 3, 3, 20), (38, 6, Fraction(1, 4), 60)]),
             (9, 0, [(36, 0, Fraction(1, 4), 120), (42, 1, Fraction(1, 4), 80),
                     (38, 2, Fraction(1, 4), 100), (36, 3, Fraction(1, 4), 120)])]
    for channel, program, notes in parts:
        events = [(0, mido.Message("program_change", channel=channel, program=program))]
        for pitch, start, duration, velocity in notes:
            events.append((int(start * tpb), mido.Message("note_on", channel=channel,
                                                          note=pitch, velocity=velocity)))
            events.append((int((start + duration) * tpb),
                           mido.Message("note_off", channel=channel, note=pitch)))
        events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
        track, now = mido.MidiTrack(), 0
        for tick, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(path)


def test_a_multitrack_midi_file_round_trips_with_drums_tempos_velocities_and_3_4(tmp_path):
    _band_midi(tmp_path / "band.mid")
    piece = km.read_midi(tmp_path / "band.mid")
    assert [t.is_drum for t in piece.tracks] == [False, False, True]
    enc = km.RemiEncoding(resolution=4, programs=[0, 33, 0] + [0] * 13)
    tokens = enc.to_tokens(piece)
    assert "Drum_42" in tokens and "Pitch_42" not in tokens and "TimeSig_3/4" in tokens
    back = enc.decode(enc.encode(piece))
    assert [(t.is_drum, t.program) for t in back.tracks] == [(False, 0), (False, 33), (True, 0)]
    for original, decoded in zip(piece.tracks, back.tracks):
        want = [(s, d, p, enc.quantized_velocity(v))
                for s, d, p, v in _notes(original)]
        assert _notes(decoded) == want
    assert back.time_signature == (3, 4)
    assert back.tempo == 120.0 and back.tempo_changes == [(Fraction(6), 88.0)]
    # the decoded piece is a MIDI file again, through the library's writer
    km.write_midi(back, tmp_path / "back.mid")
    again = km.read_midi(tmp_path / "back.mid")
    assert [_notes(t) for t in again.tracks] == [_notes(t) for t in back.tracks]


def test_bundled_chorales_round_trip_exactly():
    pieces = km.load_corpus("chorales", limit=30, progress=False).pieces
    enc = km.RemiEncoding()  # resolution 8: the chorales' finest value is a 32nd note
    for piece in pieces:
        back = enc.decode(enc.encode(piece))
        assert [_notes(t) for t in back.tracks] == [_notes(t) for t in piece.tracks if t.notes]
        assert back.time_signature == piece.time_signature
        assert back.tempo == enc.quantized_tempo(piece.tempo)


def test_the_vocabulary_is_fixed_by_the_configuration_and_has_no_unknowns():
    enc = km.RemiEncoding()
    tokens = enc.tokens
    assert len(tokens) == len(set(tokens)) == enc.vocab_size == 409
    assert "<unk>" not in tokens
    # any id sequence decodes, grammatical or not
    ids = np.random.default_rng(0).integers(0, enc.vocab_size, 2000)
    piece = enc.decode(ids)
    assert all(0 <= n.pitch <= 127 and n.duration > 0 for t in piece.tracks for n in t.notes)
    assert enc.tokens_to_ids(enc.ids_to_tokens(ids)).tolist() == ids.tolist()
    with pytest.raises(km.EncodingError):
        enc.decode([enc.vocab_size])
    with pytest.raises(km.EncodingError):
        enc.tokens_to_ids(["Pitch_200"])


def test_values_out_of_range_are_clipped_into_it():
    enc = km.RemiEncoding(resolution=4, n_tracks=2, pitch_range=(48, 72), max_duration=2)
    melody = [(30, 0, 1, 3), (100, 1, 7, 127), (60, Fraction(3, 16), 1, 50)]
    piece = make_piece(melody, [(60, 0, 1)], [(62, 0, 1)], time_signature=(11, 8), tempo=400)
    table = enc.note_table(piece)
    assert table["pitch"].tolist() == [48, 60, 62, 60, 72]
    assert table["track"].tolist() == [0, 1, 1, 0, 0]  # the third track merged into the last
    assert table["duration"].max() == 8  # 7 quarters clipped to max_duration 2
    assert table["velocity"].tolist() == [16, 80, 80, 48, 127]
    tokens = enc.to_tokens(piece)
    assert "Tempo_240" in tokens  # the fastest bin
    assert "TimeSig_3/2" in tokens  # nearest bar length to 11/8 (a tie: the first listed)
    assert all(0 <= i < enc.vocab_size for i in enc.encode(piece))


def test_config_saves_and_loads(tmp_path):
    enc = km.RemiEncoding(resolution=12, n_tracks=4, tracks=[0, 1, 2, 3],
                          time_signatures=["4/4", "3/4"], programs=[0, 0, 33, 0], seq_len=64)
    enc.save(tmp_path / "remi.json")
    loaded = km.RemiEncoding.load(tmp_path / "remi.json")
    assert loaded == enc and loaded.tokens == enc.tokens
    bad = enc.get_config() | {"resolution": "8"}
    with pytest.raises(EncodingFileError, match="resolution"):
        km.RemiEncoding.from_config(bad)
    with pytest.raises(EncodingFileError, match="whole number of steps"):
        km.RemiEncoding.from_config(enc.get_config() | {"time_signatures": ["7/32"]})


def test_transposition_moves_pitches_and_leaves_drums_alone():
    drums = make_track([(36, 0, 1), (42, 1, 1)], is_drum=True)
    piece = km.Piece([make_track([(60, 0, 2), (100, 2, 2)]), drums])
    enc = km.RemiEncoding(pitch_range=(21, 104))
    copies = km.transposed_copies([piece], [-2, 3, 5], pitch_range=enc.pitch_range)
    assert len(copies) == 3  # +5 would take 100 to 105, past the range: skipped
    original = enc.to_tokens(piece)
    up = enc.to_tokens(copies[2])
    assert [t for t in up if t.startswith("Drum_")] == [t for t in original
                                                        if t.startswith("Drum_")]
    assert [t for t in up if t.startswith("Pitch_")] == ["Pitch_63", "Pitch_103"]


def test_scoring_windows_count_every_target_once():
    seqs = [np.arange(1, 24), np.arange(1, 5)]
    inputs, targets, mask = remi_windows(seqs, 8, score_once=True)
    scored = sorted(targets[mask > 0].tolist())
    assert scored == sorted(list(range(2, 24)) + [2, 3, 4])
    assert inputs.shape == targets.shape == mask.shape


@pytest.mark.slow
def test_train_music_transformer_on_remi_tokens(tmp_path):
    pieces = km.load_corpus("chorales", limit=2, progress=False).pieces
    result = km.train_music_transformer(
        pieces, tokens="remi", seq_len=32, n_layers=1, d_model=16, n_heads=2, epochs=4,
        batch_size=16, validation_fraction=0.5, verbose=0, transpose=(0, 1), warmup_steps=2,
        dropout=0.0, learning_rate=5e-3)
    assert isinstance(result.encoding, km.RemiEncoding)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.quality.streams[0].name == "remi"
    # val_loss is the report's held-out NLL per token
    assert result.quality.streams[0].model == pytest.approx(min(result.history["val_loss"]),
                                                            rel=1e-3)
    assert result.sequence_model.outputs[0].shape[-1] == result.encoding.vocab_size
    # saved and loaded with its encoding, like the other families
    km.save_model(result.model, tmp_path / "remi.keras", result.encoding)
    assert km.load_encoding(tmp_path / "remi.keras") == result.encoding
    window = result.encoding.training_sequence(result.validation_pieces[0])[None, :32]
    loaded = km.load_model(tmp_path / "remi.keras")
    np.testing.assert_allclose(loaded.predict(window, verbose=0),
                               result.model.predict(window, verbose=0), rtol=1e-5, atol=1e-6)
    # `kerasmusic evaluate` scores the same held-out pieces to the same figures
    report = km.evaluate_quality(loaded, km.load_encoding(tmp_path / "remi.keras"), pieces,
                                 validation_fraction=0.5, transpose=(0, 1))
    assert report.streams[0].model == pytest.approx(result.quality.streams[0].model, rel=1e-4)
    assert report.streams[0].bigram == pytest.approx(result.quality.streams[0].bigram)


def test_cli_parses_tokens_remi():
    args = parser().parse_args(["train", "transformer", "--corpus", "chorales", "--out",
                                "m.keras", "--tokens", "remi"])
    assert args.tokens == "remi" and args.seq_len is None
