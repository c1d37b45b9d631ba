"""Transposition augmentation: copies in range, drums untouched, validation never shifted."""

import pytest
from builders import make_piece, make_track

import kerasmusic as km


def test_copies_stay_inside_the_representation_range_and_drums_stay():
    drums = make_track([(36, 0, 1)], is_drum=True)
    piece = make_piece([(60, 0, 1), (70, 1, 1)], drums, name="p")
    out = km.transposed_copies([piece], range(-5, 7), pitch_range=(57, 72))
    shifts = [n.pitch - 60 for p in out for n in p.tracks[0].notes[:1]]
    assert shifts == [0, -3, -2, -1, 1, 2]  # the original first, then the fitting shifts
    for p in out:
        assert all(57 <= n.pitch <= 72 for n in p.tracks[0].notes)
        assert [n.pitch for n in p.tracks[1].notes] == [36]
    assert km.transposed_copies([piece], None) == [piece]


def test_per_piece_picks_a_seeded_subset():
    pieces = [make_piece([(60, 0, 1)], name=str(i)) for i in range(4)]
    a = km.transposed_copies(pieces, km.DEFAULT_SHIFTS, per_piece=2, seed=1)
    b = km.transposed_copies(pieces, km.DEFAULT_SHIFTS, per_piece=2, seed=1)
    assert len(a) == 12 and [p.notes for p in a] == [p.notes for p in b]
    with pytest.raises(km.KerasMusicError, match="per_piece"):
        km.transposed_copies(pieces, per_piece=-1)


def test_training_transposes_training_pieces_only():
    pieces = [make_piece([(60 + (i * 5 + j) % 7, j, 1) for j in range(12)], name=f"m{i}")
              for i in range(8)]
    result = km.train_note_lstm(pieces, seq_len=4, embed_size=4, rnn_units=4, epochs=1,
                                validation_fraction=0.25, transpose=(-2, 3), verbose=0)
    assert len(result.validation_pieces) == 2
    assert all(any(v is p for p in pieces) for v in result.validation_pieces)
    assert not {v.name for v in result.validation_pieces} & {t.name for t in result.train_pieces}
    # The vocabulary comes from the transposed training pieces: it has their shifted pitches.
    train_pitches = {n.pitch for p in result.train_pieces for n in p.notes}
    for shift in (-2, 3):
        for pitch in train_pitches:
            assert km.pitch_name(pitch + shift) in result.encoding.pitch_vocabulary
    assert result.quality is not None and result.quality.data == "2 held-out pieces"


@pytest.mark.parametrize("encoding", [km.FrameEncoding(step="1/2", lowest_pitch=55,
                                                       n_pitches=20),
                                      km.EventEncoding(seq_len=4, lowest_pitch=55,
                                                       n_pitches=20)])
def test_frames_and_events_split_first_then_shift_training_pieces_in_range(encoding):
    pieces = [make_piece([(60 + (i + j) % 5, j, 1) for j in range(10)], name=f"m{i}")
              for i in range(8)]
    plain = km.split_encoded_pieces(pieces, encoding, 0.25, seed=1)
    split = km.split_encoded_pieces(pieces, encoding, 0.25, seed=1, transpose=(-5, 3, 12))
    assert encoding.pitch_range == (55, 74)
    # Validation is the same pieces as written; training gains the fitting copies only.
    assert [v.tolist() for v in split.validation] == [v.tolist() for v in plain.validation]
    assert split.augmented[:len(split.train)] == split.train
    assert len(split.augmented) == 3 * len(split.train)  # -5 and +3 fit, +12 never does
    encode = encoding.encode
    originals = {encode(p).tobytes() for p in pieces}
    for copy in split.augmented[len(split.train):]:
        assert copy.tobytes() not in originals
    assert not km.split_encoded_pieces(pieces, encoding, 0.25, seed=1,
                                       transpose=None).augmented[len(plain.train):]
