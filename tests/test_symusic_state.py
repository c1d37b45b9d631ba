"""symusic's score read from its pickled state gives what symusic's API gives."""

import numpy as np
import pytest
from fuzzing import read_outcome
from midi_files import random_midi
from symusic.core import ScoreTick

import kerasmusic as km
from kerasmusic.data import midi, symusic_state


def _api(score: ScoreTick) -> tuple:
    tracks = [(int(t.program), bool(t.is_drum),
               [(n.time, n.duration, n.pitch, n.velocity) for n in t.notes])
              for t in score.tracks]
    return (tracks, [(t.time, t.mspq) for t in score.tempos],
            [(t.time, t.numerator, t.denominator) for t in score.time_signatures],
            [(m.time, m.text.encode()) for m in score.markers])


def _read(state: symusic_state.State) -> tuple:
    tracks = [(program, drum, [tuple(n) for n in np.frombuffer(notes, symusic_state.NOTE)[
        ["time", "duration", "pitch", "velocity"]].tolist()])
              for program, drum, notes in state.tracks]
    return tracks, state.tempos, state.signatures, state.markers


def test_this_symusic_state_is_read():
    assert symusic_state.READABLE  # else the reader falls back on the (slower) API


@pytest.mark.parametrize("seed", range(12))
def test_the_state_reads_as_the_api_gives(tmp_path, seed):
    random_midi(tmp_path / "a.mid", seed, plain=seed % 2 == 0)
    score = ScoreTick.from_midi((tmp_path / "a.mid").read_bytes())
    state = symusic_state.read_state(score)
    assert state is not None and _read(state) == _api(score)
    notes = symusic_state.notes_array(b"".join(t[2] for t in state.tracks))
    assert notes.shape == (sum(len(t.notes) for t in score.tracks), 3)


def test_the_reader_gives_the_same_through_the_api(tmp_path, monkeypatch):
    """Where the state would not read as expected, symusic's API gives the same pieces."""
    paths = []
    for seed in range(8):
        paths.append(tmp_path / f"{seed}.mid")
        random_midi(paths[-1], seed, plain=True)
    fast = [read_outcome(km.read_midi, p) for p in paths]
    monkeypatch.setattr(symusic_state, "READABLE", False)
    assert [read_outcome(km.read_midi, p) for p in paths] == fast
    assert midi.symusic_state.READABLE is False
