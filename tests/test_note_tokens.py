from fractions import Fraction

import pytest
from builders import make_piece, make_track

from kerasmusic.data.note_tokens import (
    CHORD_GOES_ON,
    REST,
    START,
    UNK,
    NoteDurationEncoding,
    duration_token,
    pitch_name,
    pitch_number,
)
from kerasmusic.data.vocabulary import Vocabulary
from kerasmusic.errors import (
    KerasMusicError,
    UnknownTokenError,
    VocabularyError,
    VocabularyMismatchError,
)


def test_pitch_names_round_trip_every_midi_number():
    assert pitch_name(60) == "C4" and pitch_name(61) == "C#4" and pitch_name(11) == "B-1"
    assert all(pitch_number(pitch_name(p)) == p for p in range(128))
    assert pitch_number("Eb4") == 63
    with pytest.raises(VocabularyError, match="not a pitch name"):
        pitch_number("H2")


def test_durations_are_exact_fractions():
    assert duration_token(Fraction(3, 2)) == "3/2"
    assert duration_token(Fraction(1, 3)) == "1/3"
    assert duration_token(Fraction(2)) == "2"


def test_rests_and_chords_become_tokens():
    piece = make_piece([(60, 0, 1), (64, 0, 1), (67, 0, 1),  # C major chord
                        (62, 2, Fraction(1, 2)),             # after a one-quarter rest
                        (65, Fraction(5, 2), Fraction(1, 3))])
    events = NoteDurationEncoding().to_tokens(piece)
    assert events == [("C4.E4.G4", "1"), (REST, "1"), ("D4", "1/2"), ("F4", "1/3")]


def test_split_chords_are_a_token_per_note_and_decode_back():
    piece = make_piece([(64, 0, 1), (60, 0, 1), (67, 0, 1),
                        (62, 2, Fraction(1, 2)), (65, 2, Fraction(1, 2))])
    enc = NoteDurationEncoding(chords="split")
    events = enc.to_tokens(piece)
    assert events == [("C4", CHORD_GOES_ON), ("E4", CHORD_GOES_ON), ("G4", "1"), (REST, "1"),
                      ("D4", CHORD_GOES_ON), ("F4", "1/2")]
    enc.fit([piece])
    # single pitches only: no chord token in the vocabulary; "+" right after the start
    assert all("." not in t for t in enc.pitch_vocabulary.tokens)
    assert enc.duration_vocabulary.tokens[:2] == [START, CHORD_GOES_ON]
    decoded = enc.decode(*enc.encode(piece))
    assert sorted((n.start, n.duration, n.pitch) for n in decoded.notes) == sorted(
        (n.start, n.duration, n.pitch) for n in piece.notes)
    back = NoteDurationEncoding.from_config(enc.get_config())
    assert back.chords == "split" and back.to_tokens(piece) == events


def test_split_chords_decode_what_a_sampler_may_produce():
    enc = NoteDurationEncoding(chords="split")
    piece = enc.from_tokens([("C4", CHORD_GOES_ON), ("C4", CHORD_GOES_ON), (REST, CHORD_GOES_ON),
                             ("G4", "1"), ("A4", CHORD_GOES_ON)])
    # the repeated C4 sounds once, a "+" rest adds nothing, the unfinished A4 is dropped
    assert [(n.start, n.duration, n.pitch) for n in piece.notes] == [
        (0, 1, 60), (0, 1, 67)]
    with pytest.raises(KerasMusicError, match="chords must be one of"):
        NoteDurationEncoding(chords="stacked")


def test_an_old_encoding_without_a_chord_mode_reads_as_joined():
    enc = NoteDurationEncoding().fit([make_piece([(60, 0, 1), (64, 0, 1)])])
    config = enc.get_config()
    del config["chords"]
    assert NoteDurationEncoding.from_config(config).chords == "joined"
    assert enc.pitch_vocabulary.tokens[-1] == "C4.E4"


def test_leading_rest_and_overlap_cut_at_next_onset():
    piece = make_piece([(60, 1, 3), (62, 2, 1)])
    events = NoteDurationEncoding().to_tokens(piece)
    assert events == [(REST, "1"), ("C4", "1"), ("D4", "1")]


def test_encode_decode_round_trip_keeps_rests_and_chords():
    piece = make_piece([(60, 0, 1), (64, 0, 1), (62, Fraction(3, 2), Fraction(1, 2)),
                        (67, 3, Fraction(1, 3)), (69, Fraction(10, 3), Fraction(2, 3))])
    enc = NoteDurationEncoding(seq_len=4).fit([piece])
    pitch_ids, duration_ids = enc.encode(piece)
    decoded = enc.decode(pitch_ids, duration_ids)
    assert [(n.start, n.duration, n.pitch) for n in decoded.notes] == [
        (n.start, n.duration, n.pitch) for n in piece.notes
    ]
    assert REST in enc.decode_ids(pitch_ids, duration_ids)[1]


def test_track_selection_reads_only_the_chosen_part():
    soprano = make_track([(72, 0, 1), (74, 1, 1)])
    bass = make_track([(48, 0, 2)])
    piece = make_piece(soprano, bass)
    assert [p for p, _ in NoteDurationEncoding(tracks=[0]).to_tokens(piece)] == ["C5", "D5"]
    assert [p for p, _ in NoteDurationEncoding().to_tokens(piece)] == ["C3.C5", "D5"]
    with pytest.raises(Exception, match="track 3"):
        NoteDurationEncoding(tracks=[3]).to_tokens(piece)


def test_fit_puts_start_first_and_unknown_tokens_encode_as_unk():
    enc = NoteDurationEncoding(seq_len=3).fit([make_piece([(60, 0, 1), (62, 1, 2)])])
    assert enc.pitch_vocabulary.tokens[:3] == [START, REST, UNK]
    assert enc.duration_vocabulary.tokens[:2] == [START, UNK]
    assert enc.encode(make_piece([(69, 0, 1)])) == ([2], [enc.duration_vocabulary.id("1")])


def test_training_sequence_pads_with_start_and_ends_with_start():
    enc = NoteDurationEncoding(seq_len=3).fit([make_piece([(60, 0, 1), (62, 1, 2)])])
    pitches, durations = enc.training_sequence(make_piece([(60, 0, 1), (62, 1, 2)]))
    assert pitches[:3] == [0, 0, 0] and pitches[-1] == 0 and len(pitches) == 6
    assert enc.decode_ids(pitches[3:5], durations[3:5]) == [("C4", "1"), ("D4", "2")]


def test_encoding_json_round_trip(tmp_path):
    enc = NoteDurationEncoding(seq_len=5, tracks=[0]).fit([make_piece([(60, 0, 1)])])
    enc.save(tmp_path / "e.json")
    back = NoteDurationEncoding.load(tmp_path / "e.json")
    assert back.get_config() == enc.get_config()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(VocabularyError, match="bad.json"):
        NoteDurationEncoding.load(tmp_path / "bad.json")


def test_vocabulary_round_trip_and_errors(tmp_path):
    vocab = Vocabulary.from_sequences([["b", "a"], ["c"]], specials=["<s>"], name="letters")
    assert vocab.tokens == ["<s>", "a", "b", "c"]
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json") == vocab
    assert vocab.decode(vocab.encode(["c", "a"])) == ["c", "a"]
    with pytest.raises(UnknownTokenError, match="'z' is not in the letters vocabulary"):
        vocab.encode(["a", "z"])
    with pytest.raises(VocabularyError, match="out of range"):
        vocab.decode([9])
    with pytest.raises(VocabularyError, match="duplicate"):
        Vocabulary(["a", "a"])
    assert not issubclass(VocabularyMismatchError, UnknownTokenError)


def test_drum_or_negative_tracks_are_refused():
    from builders import make_track

    piece = make_piece(make_track([(36, 0, 1)], is_drum=True), [(60, 0, 1)])
    assert NoteDurationEncoding().to_tokens(piece) == [("C4", "1")]  # drums never read
    with pytest.raises(Exception, match="track 0 is a drum track"):
        NoteDurationEncoding(tracks=[0]).to_tokens(piece)
    assert NoteDurationEncoding(tracks=[1]).to_tokens(piece) == [("C4", "1")]
    assert not NoteDurationEncoding(tracks=[0]).has_tracks(piece)
    with pytest.raises(Exception, match="count from 0"):
        NoteDurationEncoding(tracks=[-1])
