"""The array encoders give exactly what the per-note reference code gives.

Each representation keeps its per-note code (``_..._reference``) for notes the arrays
cannot hold; here both paths run on the chorales and on random pieces with triplets,
unisons, overlaps and notes out of range, and must agree to the last element.
"""

from __future__ import annotations

import random
import warnings
from fractions import Fraction

import numpy as np
import pytest
from builders import make_piece

import kerasmusic as km
from kerasmusic.data.events import EventEncoding
from kerasmusic.data.frames import FrameEncoding
from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.notes import Note, NoteArrays, Track, round_div
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import KerasMusicError


def _roll(encoding):
    return encoding.to_roll, encoding._to_roll_reference


ENCODERS = {
    "roll 4 tracks": _roll(MultiTrackPianoRoll([0, 1, 2, 3])),
    "roll 1 track, triplet steps": _roll(MultiTrackPianoRoll([0], step="1/6", n_pitches=40,
                                                             lowest_pitch=50)),
    "roll silent": _roll(MultiTrackPianoRoll([0, 7], missing="silent")),
}
for _label, _enc in {"frames": FrameEncoding(),
                     "frames repeats": FrameEncoding(separate_repeats=True, n_pitches=30,
                                                     lowest_pitch=50),
                     "frames sample": FrameEncoding(frame_rule="sample", tracks=[0, 1]),
                     "frames sample repeats": FrameEncoding(frame_rule="sample", step="1/3",
                                                            separate_repeats=True)}.items():
    ENCODERS[_label] = (_enc.encode, _enc._encode_reference)
for _label, _enc in {"tokens": NoteDurationEncoding(),
                     "tokens split grid 1/4": NoteDurationEncoding(chords="split", grid="1/4"),
                     "tokens no grid, track 0": NoteDurationEncoding(grid=None, tracks=[0])
                     }.items():
    ENCODERS[_label] = (_enc.to_tokens, _enc._to_tokens_reference)
for _label, _enc in {"events": EventEncoding(),
                     "events tolerance, few values": EventEncoding(
                         time_values=("1/4", "1", "3"), chord_tolerance="1/8", n_pitches=30,
                         lowest_pitch=50)}.items():
    ENCODERS[_label] = (_enc.encode, _enc._encode_reference)
for _label, _enc in {"tones": ToneEncoding(), "tones 3": ToneEncoding(tones_per_cell=3),
                     "tones tracks 1 0": ToneEncoding(tracks=[1, 0, 9])}.items():
    ENCODERS[_label] = (_enc.raw_cells, _enc._raw_cells_reference)


def outcome(encode, piece):
    """What ``encode`` gives for ``piece``: its result (or error) and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = encode(piece)
        except KerasMusicError as exc:
            result = (type(exc).__name__, str(exc))
    if isinstance(result, np.ndarray):
        result = (result.dtype, result.shape, result.tobytes())
    return result, [str(w.message) for w in caught]


def assert_same(pieces, labels=ENCODERS):
    for label in labels:
        new, reference = ENCODERS[label]
        for piece in pieces:
            assert outcome(new, piece) == outcome(reference, piece), (label, piece.name)


def random_piece(rng: random.Random, name: str):
    times = [Fraction(k, d) for d in (1, 2, 3, 4, 6, 8, 12, 5) for k in range(1, 3 * d)]
    tracks = []
    for _ in range(rng.randint(1, 4)):
        notes, t = [], Fraction(0)
        for _ in range(rng.randint(0, 40)):
            t += rng.choice([Fraction(0)] * 3 + times)  # chords, unisons
            notes.append((rng.randint(15, 112), t, rng.choice(times), rng.randint(0, 127)))
        tracks.append(notes)
    return make_piece(*tracks, name=name)


@pytest.mark.parametrize("label", list(ENCODERS))
def test_array_encoders_match_on_random_pieces(label):
    rng = random.Random(label)
    assert_same([random_piece(rng, f"random {i}") for i in range(60)], [label])


def test_array_encoders_match_on_twenty_chorales():
    assert_same(km.load_corpus("chorales", limit=20, progress=False).pieces)


@pytest.mark.slow
def test_array_encoders_match_on_all_chorales():
    pieces = km.load_corpus("chorales", progress=False).pieces
    assert len(pieces) == 350
    assert_same(pieces)


def test_notes_the_arrays_cannot_hold_take_the_reference_path():
    odd = [make_piece([(60, -1, 2), (62, 0, 1)]),  # starts before 0
           make_piece([(60, 0, 0), (62, 0, 1)]),  # lasts nothing
           make_piece([(60, Fraction(1, 2 ** 45), 1), (64, 1, Fraction(1, 3 ** 30))])]
    assert [p.tracks[0].arrays() is None or not p.tracks[0].arrays().ordinary
            for p in odd] == [True] * 3
    assert_same(odd)


def test_track_arrays_are_exact_and_follow_the_notes():
    track = Track([Note(Fraction(1, 3), Fraction(1, 2), 60), Note(Fraction(0), Fraction(3, 4),
                                                                  62, 90)])
    arrays = track.arrays()
    assert arrays.ticks_per_quarter == 12 and track.arrays() is arrays
    assert arrays.start.tolist() == [0, 4] and arrays.duration.tolist() == [9, 6]
    assert arrays.pitch.tolist() == [62, 60] and arrays.velocity.tolist() == [90, 80]
    track.notes = track.notes[:1]
    assert track.arrays().pitch.tolist() == [62]
    track.notes.append(Note(Fraction(5), Fraction(1), 70))  # changed in place: seen too
    assert track.arrays().pitch.tolist() == [62, 70]
    assert NoteArrays.from_notes([]).ticks_per_quarter == 1


def test_round_div_rounds_halves_to_even_like_python():
    values = np.arange(-20, 21)
    for b in (1, 2, 3, 4, 6):
        assert round_div(values, b).tolist() == [round(Fraction(int(v), b)) for v in values]
