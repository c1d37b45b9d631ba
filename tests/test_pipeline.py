import numpy as np
from builders import make_piece

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.pipeline import (
    make_note_duration_datasets,
    note_duration_arrays,
    note_duration_step_arrays,
    sliding_windows,
    split_pieces,
)


def _pieces(n):
    return [make_piece([(60 + i, t, 1) for t in range(6)], name=f"p{i}") for i in range(n)]


def test_sliding_windows_targets_follow_each_window():
    x, y = sliding_windows([1, 2, 3, 4, 5], 3)
    assert x.tolist() == [[1, 2, 3], [2, 3, 4]]
    assert y.tolist() == [4, 5]
    x, y = sliding_windows([1, 2], 3)
    assert x.shape == (0, 3) and y.shape == (0,)


def test_split_is_by_piece_and_reproducible():
    pieces = _pieces(10)
    train, val = split_pieces(pieces, 0.2, seed=1)
    assert len(val) == 2 and len(train) == 8
    assert not {p.name for p in train} & {p.name for p in val}
    assert split_pieces(pieces, 0.2, seed=1) == (train, val)
    assert split_pieces(_pieces(2), 0.01)[1]  # at least one validation piece


def test_validation_windows_come_only_from_validation_pieces():
    pieces = _pieces(6)  # piece i only ever plays pitch 60 + i
    enc = NoteDurationEncoding(seq_len=4).fit(pieces)
    train, val = split_pieces(pieces, 0.34, seed=3)
    train_ds, val_ds = make_note_duration_datasets(pieces, enc, batch_size=4,
                                                   validation_fraction=0.34, seed=3)
    def pitches(ds):
        return {int(v) for x, y in ds for v in np.unique(x["notes"])} - {0}
    val_ids = set(enc.encode(val[0])[0]) | set(enc.encode(val[-1])[0])
    assert pitches(val_ds) == val_ids
    assert not pitches(train_ds) & val_ids
    x, y = next(iter(train_ds))
    assert x["notes"].shape == (4, 4) and x["durations"].shape == (4, 4)
    assert y["pitch"].shape == (4,) and y["duration"].shape == (4,)


def test_arrays_include_start_padding_and_end_target():
    pieces = _pieces(1)
    enc = NoteDurationEncoding(seq_len=4).fit(pieces)
    x, y = note_duration_arrays(pieces, enc)
    assert len(y["pitch"]) == 6 + 1  # every note, then the closing start token
    assert x["notes"][0].tolist() == [0, 0, 0, 0]
    assert y["pitch"][-1] == 0


def test_same_melody_in_two_pieces_is_kept_once():
    from builders import make_track

    from kerasmusic.data.pipeline import unique_pieces

    tune = [(60, 0, 1), (62, 1, 1)]
    a = make_piece(make_track(tune), make_track([(48, 0, 2)]), name="a")
    b = make_piece(make_track(tune), make_track([(43, 0, 2)]), name="b")  # other bass
    enc = NoteDurationEncoding(seq_len=2, tracks=[0]).fit([a, b])
    assert [p.name for p in unique_pieces([a, b], enc)] == ["a"]
    all_parts = NoteDurationEncoding(seq_len=2).fit([a, b])
    assert len(unique_pieces([a, b], all_parts)) == 2


def test_step_chunks_end_in_the_windowed_examples_and_mask_the_padding():
    enc = NoteDurationEncoding(seq_len=4).fit(_pieces(2))
    piece = _pieces(1)[0]
    inputs, targets, weights = note_duration_step_arrays([piece], enc, stride=2)
    seq = enc.training_sequence(piece)[0]  # 4 pads, 6 notes, the end: 11 ids
    assert inputs["notes"].shape == targets["pitch"].shape == weights.shape == (4, 4)
    assert [list(c) for c in inputs["notes"]] == [seq[0:4], seq[2:6], seq[4:8], seq[6:10]]
    assert [list(c) for c in targets["pitch"]] == [seq[1:5], seq[3:7], seq[5:9], seq[7:11]]
    # Only real targets count: never "a start token follows the start padding".
    assert weights.tolist()[:2] == [[0, 0, 0, 1], [0, 1, 1, 1]] and weights[2:].all()
    windows, window_targets = note_duration_arrays([piece], enc)
    _, _, last = note_duration_step_arrays([piece], enc, stride=1, last_only=True)
    chunks, chunk_targets, _ = note_duration_step_arrays([piece], enc, stride=1)
    np.testing.assert_array_equal(chunks["notes"], windows["notes"])
    np.testing.assert_array_equal(chunk_targets["pitch"][:, -1], window_targets["pitch"])
    assert (last[:, -1] == 4).all() and (last[:, :-1] == 0).all()
