from fractions import Fraction

import pytest
from builders import make_piece, make_track

import kerasmusic as km


def _notes(piece):
    return [[(n.start, n.duration, n.pitch, n.velocity) for n in t.notes] for t in piece.tracks]


def test_write_then_read_gives_the_same_notes(tmp_path):
    melody = make_track([(60, 0, 1, 90), (64, 0, 1, 90), (67, Fraction(3, 2), Fraction(1, 4)),
                         (72, Fraction(7, 4), Fraction(1, 4), 70), (71, 4, 2)],  # gap = rest
                        name="piano", program=0)
    bass = make_track([(36, 0, 4, 60)], name="bass", program=33)
    drums = make_track([(36, 0, Fraction(1, 2), 100), (38, 1, Fraction(1, 2), 100)],
                       name="drums", is_drum=True)
    piece = make_piece(melody, bass, drums, tempo=96.0, time_signature=(3, 4))
    km.write_midi(piece, tmp_path / "a.mid")
    back = km.read_midi(tmp_path / "a.mid")
    assert _notes(back) == _notes(piece)
    assert [(t.name, t.program, t.is_drum) for t in back.tracks] == [
        ("piano", 0, False), ("bass", 33, False), ("drums", 0, True)]
    assert back.tempo == pytest.approx(96.0) and back.time_signature == (3, 4)
    assert all(isinstance(n.start, Fraction) for n in back.notes)


def test_not_a_midi_file(tmp_path):
    path = tmp_path / "notes.mid"
    path.write_text("this is a shopping list, not music")
    with pytest.raises(km.MidiReadError, match="notes.mid.*not a readable MIDI"):
        km.read_midi(path)


def test_truncated_midi(tmp_path):
    km.write_midi(make_piece([(60 + i % 12, i, 1) for i in range(50)]), tmp_path / "full.mid")
    data = (tmp_path / "full.mid").read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: len(data) // 2])
    with pytest.raises(km.MidiReadError, match="cut.mid"):
        km.read_midi(tmp_path / "cut.mid")


def test_empty_midi(tmp_path):
    km.write_midi(make_piece([]), tmp_path / "empty.mid")
    with pytest.raises(km.EmptyMidiError, match="empty.mid.*no notes"):
        km.read_midi(tmp_path / "empty.mid")


def test_drums_only(tmp_path):
    drums = make_track([(36, 0, 1), (38, 1, 1)], is_drum=True)
    km.write_midi(make_piece(drums), tmp_path / "drums.mid")
    with pytest.raises(km.NoPitchedNotesError, match="drums.mid.*only drum notes"):
        km.read_midi(tmp_path / "drums.mid")
    piece = km.read_midi(tmp_path / "drums.mid", require_pitched=False)
    assert piece.tracks[0].is_drum and len(piece.tracks[0].notes) == 2
    assert piece.notes == []  # .notes is pitched notes only


def test_missing_file(tmp_path):
    with pytest.raises(km.MidiReadError, match="no such file"):
        km.read_midi(tmp_path / "nothing.mid")


def test_errors_are_keras_music_errors_with_the_path(tmp_path):
    path = tmp_path / "x.mid"
    path.write_bytes(b"MThd\x00\x00")
    with pytest.raises(km.KerasMusicError) as info:
        km.read_midi(path)
    assert info.value.path == str(path)
