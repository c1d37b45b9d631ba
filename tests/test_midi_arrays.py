"""read_midi keeps notes as arrays: the same arrays as the old reader's Note objects
give, and no Note object until a track's notes are read."""

import random

import miditoolkit
import numpy as np
import pytest
from midi_files import random_midi
from miditoolkit.midi.containers import Instrument, TempoChange
from miditoolkit.midi.containers import Note as MidiNote

import kerasmusic as km
from kerasmusic.data import midi
from kerasmusic.data import notes as notes_module
from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit
from kerasmusic.data.notes import NoteArrays
from kerasmusic.data.pianoroll import MultiTrackPianoRoll


def _assert_same_arrays(path):
    """read_midi's arrays of each track equal those of the old reader's Note objects
    (or both refuse the file)."""
    try:
        old = read_midi_miditoolkit(path, require_pitched=False)
    except km.KerasMusicError as exc:
        with pytest.raises(type(exc)):
            km.read_midi(path, require_pitched=False)
        return
    new = km.read_midi(path, require_pitched=False)
    assert len(new.tracks) == len(old.tracks)
    for a, b in zip(new.tracks, old.tracks):
        got, want = a.arrays(), NoteArrays.from_notes(b.notes)
        assert got.ticks_per_quarter == want.ticks_per_quarter, path
        for field in ("start", "duration", "pitch", "velocity"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
            assert getattr(got, field).dtype == np.int64


def _band_file(path, seed: int, notes: int) -> None:
    """A multi-track file: chords, drums, very short notes, several tempos (a pitch
    sounds again only after its note ended: no note is left sounding)."""
    rng = random.Random(seed)
    tpq = rng.choice((96, 480, 960))
    mid = miditoolkit.MidiFile(ticks_per_beat=tpq)
    mid.tempo_changes = [TempoChange(100, 0), TempoChange(140, tpq * 8)]
    for t in range(rng.randint(2, 6)):
        inst = Instrument(program=rng.randrange(128), is_drum=t == 3, name=f"part {t}")
        tick, free = 0, dict.fromkeys(range(20, 100), -1)  # pitch -> tick it is free after
        for _ in range(notes):
            if rng.random() < 0.7:  # else a chord note with the one before
                tick += rng.choice((1, 2, 3, 4)) * tpq // 4
            pitch = rng.choice([p for p, end in free.items() if end < tick] or [None])
            if pitch is None:
                continue
            length = rng.choice((0, 1, 2, 3, 6)) * tpq // 4 + rng.choice((1, 1, 2))
            free[pitch] = tick + length
            inst.notes.append(MidiNote(rng.randint(1, 127), pitch, tick, tick + length))
        mid.instruments.append(inst)
    mid.dump(str(path))


def test_arrays_equal_the_old_readers_on_the_chorales(tmp_path):
    pieces = km.load_corpus("chorales", progress=False).pieces
    for i, piece in enumerate(pieces):
        km.write_midi(piece, tmp_path / f"{i}.mid")
        _assert_same_arrays(tmp_path / f"{i}.mid")


def test_arrays_equal_the_old_readers_on_multi_track_files(tmp_path, monkeypatch):
    slow = []  # the files read_midi handed to the miditoolkit reader

    def counted(path, **kwargs):
        slow.append(path)
        return read_midi_miditoolkit(path, **kwargs)

    monkeypatch.setattr(midi, "read_midi_miditoolkit", counted)
    for seed in range(60):
        random_midi(tmp_path / f"r{seed}.mid", seed, plain=seed % 2 == 0)
        _assert_same_arrays(tmp_path / f"r{seed}.mid")
    for seed in range(4):
        _band_file(tmp_path / f"band{seed}.mid", seed, notes=60)
        _assert_same_arrays(tmp_path / f"band{seed}.mid")
    _band_file(tmp_path / "big.mid", 7, notes=5_000)  # 10,000+ notes
    assert sum(len(t.notes) for t in km.read_midi(tmp_path / "big.mid").tracks) > 10_000
    _assert_same_arrays(tmp_path / "big.mid")
    assert not [p for p in slow if "band" in p or "big" in p]  # all read by symusic


@pytest.fixture
def made_notes(monkeypatch):
    """How many Note objects the array-backed tracks have made."""
    made = []
    real = notes_module.Note

    def counted(*args):
        made.append(1)
        return real(*args)

    monkeypatch.setattr(notes_module, "Note", counted)
    return made


def test_notes_are_made_only_when_read(tmp_path, made_notes):
    _band_file(tmp_path / "band.mid", 1, notes=200)
    piece = km.read_midi(tmp_path / "band.mid")
    encoding = MultiTrackPianoRoll(tracks=[0, 1])
    encoding.phrases(piece)
    meta, rows = piece.to_arrays()
    assert not made_notes  # reading, encoding and caching use the arrays
    old = read_midi_miditoolkit(tmp_path / "band.mid")
    assert [t.notes for t in piece.tracks] == [t.notes for t in old.tracks]
    assert len(made_notes) == len(rows)  # once each, when asked
    assert piece == old
