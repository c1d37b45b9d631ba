import json
import time
from fractions import Fraction
from pathlib import Path

import music21
import numpy as np
import pytest
from builders import HANG_LIMIT, make_piece, make_track

import kerasmusic as km
from kerasmusic.data import corpus as corpus_module
from kerasmusic.data.notes import Note, NoteArrays, Track


def _folder(tmp_path):
    folder = tmp_path / "midi"
    (folder / "sub").mkdir(parents=True)
    km.write_midi(make_piece([(60, 0, 1), (62, 1, 1)]), folder / "a.mid")
    km.write_midi(make_piece([(64, 0, 1), (65, 1, 2)]), folder / "sub" / "b.midi")
    (folder / "broken.mid").write_bytes(b"MThd garbage")
    (folder / "readme.txt").write_text("ignored")
    return folder


def test_broken_file_is_reported_and_the_rest_load(tmp_path, cache_dir):
    with pytest.warns(corpus_module.SkippedFileWarning, match="broken.mid"):
        corpus = km.load_corpus(_folder(tmp_path), workers=1, progress=False)
    assert len(corpus) == 2
    assert [type(e) for e in corpus.errors] == [km.MidiReadError]
    assert corpus.errors[0].path.endswith("broken.mid")


def test_identical_pieces_are_kept_once(tmp_path, cache_dir):
    km.write_midi(make_piece([(60, 0, 1)]), tmp_path / "one.mid")
    km.write_midi(make_piece([(60, 0, 1)]), tmp_path / "two.mid")
    assert len(km.load_corpus(tmp_path, workers=1, progress=False)) == 1


def test_second_load_comes_from_the_cache(cache_dir, monkeypatch):
    t0 = time.perf_counter()
    first = km.load_corpus("chorales", limit=8, workers=1, progress=False)
    t1 = time.perf_counter()
    assert len(first) == 8 and not first.errors
    assert len(list((cache_dir / "pieces").glob("*.npz"))) == 8

    parsed = []
    monkeypatch.setattr(corpus_module, "read_file_pieces", parsed.append)
    t2 = time.perf_counter()
    second = km.load_corpus("chorales", limit=8, workers=1, progress=False)
    t3 = time.perf_counter()
    assert parsed == []
    assert [p.to_dict() for p in second] == [p.to_dict() for p in first]
    print(f"8 chorales: parsed in {t1 - t0:.2f} s, from the cache in {t3 - t2:.3f} s")


def test_edited_file_is_parsed_again(tmp_path, cache_dir):
    path = tmp_path / "a.mid"
    km.write_midi(make_piece([(60, 0, 1)]), path)
    assert km.load_corpus([path], workers=1).pieces[0].notes[0].pitch == 60
    km.write_midi(make_piece([(67, 0, 1)]), path)
    assert km.load_corpus([path], workers=1).pieces[0].notes[0].pitch == 67


def test_parallel_workers_load_the_same_pieces(tmp_path, cache_dir):
    for i in range(5):
        km.write_midi(make_piece([(60 + i, 0, 1)]), tmp_path / f"{i}.mid")
    corpus = km.load_corpus(tmp_path, workers=2, progress=False)
    assert [p.notes[0].pitch for p in corpus] == [60, 61, 62, 63, 64]


def test_unknown_sources_are_clear_errors(tmp_path, cache_dir):
    with pytest.raises(km.CorpusError, match="chorales"):
        km.load_corpus("no-such-corpus-name")
    (tmp_path / "empty").mkdir()
    with pytest.raises(km.CorpusError, match="no MIDI or score files"):
        km.load_corpus(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mid").write_text("nope")
    with pytest.warns(corpus_module.SkippedFileWarning), \
            pytest.raises(km.CorpusError, match="x.mid"):
        km.load_corpus(tmp_path / "bad", workers=1)


def test_read_file_dispatches_by_suffix(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(km.FileReadError, match="unknown file type"):
        km.read_file(tmp_path / "a.wav")


ABC_BOOK = """X:1
T:first
M:4/4
L:1/4
K:C
C D E F | G4 |]

X:2
T:second
M:4/4
L:1/4
K:G
G A B c | d4 |]
"""


def test_every_tune_of_an_abc_book_loads(tmp_path, cache_dir):
    (tmp_path / "book.abc").write_text(ABC_BOOK)
    corpus = km.load_corpus(tmp_path, workers=1, progress=False)
    assert [p.name for p in corpus] == [f"{tmp_path / 'book.abc'}#0", f"{tmp_path / 'book.abc'}#1"]
    assert [p.notes[0].pitch for p in corpus] == [60, 67]
    again = km.load_corpus(tmp_path, workers=1, progress=False)  # from the cache
    assert [p.to_dict() for p in again] == [p.to_dict() for p in corpus]


def test_cached_piece_is_named_after_its_own_file(tmp_path, cache_dir):
    km.write_midi(make_piece([(60, 0, 1)]), tmp_path / "a.mid")
    km.load_corpus([tmp_path / "a.mid"], workers=1, progress=False)
    (tmp_path / "b.mid").write_bytes((tmp_path / "a.mid").read_bytes())
    assert km.load_corpus([tmp_path / "b.mid"], workers=1).pieces[0].name == str(
        tmp_path / "b.mid")


def test_a_reader_bug_costs_one_file_not_the_corpus(tmp_path, cache_dir, monkeypatch):
    for name in ("a.mid", "b.mid"):
        km.write_midi(make_piece([(60 if name == "a.mid" else 62, 0, 1)]), tmp_path / name)
    real = corpus_module.read_file_pieces

    def flaky(path):
        if str(path).endswith("a.mid"):
            raise ZeroDivisionError("bug")
        return real(path)

    monkeypatch.setattr(corpus_module, "read_file_pieces", flaky)
    with pytest.warns(corpus_module.SkippedFileWarning, match="ZeroDivisionError"):
        corpus = km.load_corpus(tmp_path, workers=1, progress=False)
    assert [p.notes[0].pitch for p in corpus] == [62]


def test_chorale_names_resolve_to_distinct_exact_files(cache_dir):
    files = corpus_module.corpus_files("chorales")
    assert len(files) == len(set(files)) == 350
    names = {Path(f).name for f in files}
    # corpus.getWork("bach/bwv69.6") matches by prefix and would give bwv69.6-a again
    assert {"bwv69.6.xml", "bwv69.6-a.mxl", "bwv112.5.mxl", "bwv190.7.mxl"} <= names
    assert corpus_module.corpus_files("bach") == files


def test_composer_corpus_skips_analysis_files(cache_dir):
    files = corpus_module.corpus_files("monteverdi")
    assert files and files == sorted(files)
    assert all(Path(f).suffix in (".mxl", ".xml", ".krn", ".abc", ".musicxml") for f in files)
    root = Path(music21.common.getCorpusFilePath())
    assert any(root.joinpath("monteverdi").glob("*.rntxt"))  # there, but not loaded


def test_unknown_name_lists_the_corpus_names(tmp_path, cache_dir):
    with pytest.raises(km.CorpusError, match="mozart.*essenFolksong|essenFolksong.*mozart"):
        km.load_corpus("no-such-corpus-name")
    # A path that does not exist is named as such, not answered with every corpus name.
    with pytest.raises(km.CorpusError, match=r"missing-folder: no such file or folder$"):
        km.load_corpus(tmp_path / "missing-folder")


def test_limit_must_be_positive(cache_dir):
    with pytest.raises(ValueError, match="limit"):
        km.load_corpus("chorales", limit=0)


def test_a_failed_file_is_cached_by_content_not_parsed_again(tmp_path, cache_dir, monkeypatch):
    km.write_midi(make_piece([(60, 0, 1)]), tmp_path / "good.mid")
    (tmp_path / "bad.mid").write_bytes(b"MThd garbage")
    with pytest.warns(corpus_module.SkippedFileWarning):
        first = km.load_corpus(tmp_path, workers=1, progress=False)
    real, parsed = corpus_module.read_file_pieces, []

    def counted(path):
        parsed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(corpus_module, "read_file_pieces", counted)
    (tmp_path / "copy.mid").write_bytes(b"MThd garbage")  # same bytes, another name
    with pytest.warns(corpus_module.SkippedFileWarning):
        second = km.load_corpus(tmp_path, workers=1, progress=False)
    assert parsed == []
    assert [(type(e), e.reason) for e in second.errors] == \
        [(type(first.errors[0]), first.errors[0].reason)] * 2
    assert [Path(e.path).name for e in second.errors] == ["bad.mid", "copy.mid"]
    (tmp_path / "bad.mid").write_bytes(b"MThd other garbage")  # edited: read again
    with pytest.warns(corpus_module.SkippedFileWarning):
        km.load_corpus(tmp_path, workers=1, progress=False)
    assert parsed == ["bad.mid"]


def test_parallel_loading_leaves_no_pipe_open(tmp_path):
    """Each corpus load with worker processes used to leave two ResourceWarnings."""
    import subprocess
    import sys

    for i in range(4):
        km.write_midi(make_piece([(60 + i, 0, 1)]), tmp_path / f"{i}.mid")
    script = ("import gc, sys\n"
              "from kerasmusic.data.corpus import load_corpus\n"
              "corpus = load_corpus(sys.argv[1], workers=2, progress=False, "
              "cache_dir=sys.argv[2])\n"
              "gc.collect()\n"
              "print(len(corpus))\n")
    run = subprocess.run([sys.executable, "-X", "dev", "-W", "always::ResourceWarning", "-c",
                          script, str(tmp_path), str(tmp_path / "cache")],
                         capture_output=True, text=True, timeout=HANG_LIMIT)
    assert run.returncode == 0 and run.stdout.strip() == "4", run.stderr[-2000:]
    assert "ResourceWarning" not in run.stderr, run.stderr[-2000:]


def test_a_damaged_copy_read_first_does_not_shadow_the_good_file(tmp_path, cache_dir):
    import mido

    km.write_midi(make_piece([(60, 0, 1), (62, 1, 1)]), tmp_path / "b_good.mid")
    damaged = mido.MidiFile(tmp_path / "b_good.mid")
    track = damaged.tracks[-1]  # a note-on whose note-off was lost: the reader drops it
    track.insert(len(track) - 1, mido.Message("note_on", note=70, velocity=80, time=0))
    damaged.save(tmp_path / "a_damaged.mid")
    assert km.read_midi(tmp_path / "a_damaged.mid").repairs == ["1 note with no note-off dropped"]
    with pytest.warns(corpus_module.SkippedFileWarning,
                      match=r"a_damaged.mid has the same notes as .*b_good.mid but was read "
                            r"with repairs \(1 note with no note-off dropped\): kept"):
        corpus = km.load_corpus(tmp_path, workers=1, progress=False)
    assert [Path(p.name).name for p in corpus] == ["b_good.mid"]
    assert km.read_midi(tmp_path / "b_good.mid").repairs == []


def test_a_parser_that_hangs_or_dies_costs_only_its_file(tmp_path, cache_dir, monkeypatch):
    """A worker stuck on one file is stopped after the per-file limit; a worker that dies
    is replaced. Either file is reported (and not cached); the rest of each share loads."""
    import os

    from kerasmusic.data import parse_pool

    tests = Path(__file__).parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tests),
                                                      os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(parse_pool, "PARSE_WORKER", "stuck_parse_worker:main")
    good = ["a.mid", "b.mid", "c.mid", "z.mid", "zz.mid"]
    for i, name in enumerate(good + ["crash.mid"]):
        km.write_midi(make_piece([(60 + i, 0, 1)]), tmp_path / name)
    (tmp_path / "stuck.abc").write_text("X:1\nT:t\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    with pytest.warns(corpus_module.SkippedFileWarning):
        corpus = km.load_corpus(tmp_path, workers=2, progress=False, file_timeout=5)
    assert sorted(Path(p.name).name for p in corpus) == good
    reasons = {Path(e.path).name: (type(e), e.reason) for e in corpus.errors}
    assert reasons == {
        "crash.mid": (km.MidiReadError, "the parser process died (exit code 3) while reading it"),
        "stuck.abc": (km.ScoreReadError, "parsing took longer than 5 s: stopped (a damaged file?)"),
    }
    monkeypatch.setattr(parse_pool, "PARSE_WORKER", "kerasmusic.data.parse_worker:main")
    again = km.load_corpus([tmp_path / "stuck.abc", tmp_path / "crash.mid"], progress=False)
    assert len(again) == 2 and not again.errors  # tried again, not taken from the cache


def test_a_parse_worker_cannot_take_all_the_memory():
    """One fuzzed ABC file made music21 ask for more than 21 GB: in a worker that is a
    MemoryError for the file, not the kernel's out-of-memory killer."""
    import subprocess
    import sys

    script = ("from kerasmusic.data.parse_worker import limit_memory\n"
              "limit_memory(most=1 << 30)\n"
              "try:\n"
              "    bytearray(3 << 30)\n"
              "except MemoryError:\n"
              "    print('refused')\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=HANG_LIMIT)
    assert run.stdout.strip() == "refused", run.stderr[-2000:]


def test_the_cache_holds_plain_arrays_and_a_damaged_entry_is_parsed_again(tmp_path, cache_dir,
                                                                         monkeypatch):
    piece = make_piece([(60, 0, Fraction(1, 3), 70), (64, Fraction(1, 3), 1)], [(40, 1, 2)])
    km.write_midi(piece, tmp_path / "a.mid")
    first = km.load_corpus(tmp_path, workers=1, progress=False)
    (entry,) = (cache_dir / "pieces").glob("*.npz")
    with np.load(entry, allow_pickle=False) as arrays:  # no pickle in the cache
        assert arrays["notes"].dtype == np.int64 and arrays["notes"].shape == (3, 4)
    second = km.load_corpus(tmp_path, workers=1, progress=False)
    assert [p.to_dict() for p in second] == [p.to_dict() for p in first]
    track = second.pieces[0].tracks[0]
    assert track.arrays().start.tolist() == NoteArrays.from_notes(track.notes).start.tolist()
    entry.write_bytes(entry.read_bytes()[:40])  # cut short: parsed again, not an error
    parsed = []
    monkeypatch.setattr(corpus_module, "read_file_pieces",
                        lambda path: parsed.append(path) or [km.read_midi(path)])
    third = km.load_corpus(tmp_path, workers=1, progress=False)
    assert len(parsed) == 1 and [p.to_dict() for p in third] == [p.to_dict() for p in first]


def test_pieces_round_trip_through_arrays():
    fine = Track([Note(Fraction(1, 2 ** 45), Fraction(1), 60)])  # ticks too fine: kept as text
    piece = km.Piece([make_track([(62, Fraction(1, 3), Fraction(1, 2), 90), (60, 0, 1)],
                                 name="a", program=3), fine, Track([], is_drum=True)],
                     tempo_changes=[(Fraction(4), 90.0)], repairs=["x"], name="p")
    meta, notes = piece.to_arrays()
    assert json.loads(json.dumps(meta)) == meta and notes.shape == (2, 4)
    back = km.Piece.from_arrays(meta, notes)
    lazy = back.tracks[0]
    assert "_notes" not in lazy.__dict__ and lazy.arrays().pitch.tolist() == [60, 62]
    assert back == piece and back.repairs == ["x"] and back.tracks[1].arrays() is None
    lazy.notes = lazy.notes[1:]  # Note objects made on first use, then followed
    assert lazy.arrays().pitch.tolist() == [62] and lazy.arrays().ticks_per_quarter == 6
    with pytest.raises(ValueError):
        km.Piece.from_arrays(meta, notes[:1])


def test_worker_answers_carry_the_cache_entry_as_plain_arrays(tmp_path, cache_dir):
    from kerasmusic.data import parse_pool, parse_worker

    piece = km.Piece([make_track([(62, Fraction(1, 3), Fraction(1, 2), 90), (60, 0, 1)]),
                      make_track([(36, 0, 1)], is_drum=True)], tempo=90.0)
    meta, rows = piece.to_arrays()
    entry = ({"pieces": [meta | {"rows": len(rows)}]}, rows)
    line = json.dumps(parse_worker.answer("x.mid", entry))
    assert "pickle" not in line and '"notes": "' in line  # base64 of the int64 rows
    path, (got_meta, got_rows) = parse_pool._parse_answer(line)
    assert path == "x.mid" and got_meta == entry[0]
    np.testing.assert_array_equal(got_rows, rows)
    assert got_rows.dtype == np.int64 and got_rows.flags.writeable
    error = km.EmptyMidiError("x.mid", "no notes")
    path, got = parse_pool._parse_answer(json.dumps(parse_worker.answer("x.mid", error)))
    assert type(got) is km.EmptyMidiError and got.reason == "no notes"


def test_pieces_from_workers_make_no_notes_until_read(tmp_path, cache_dir, monkeypatch):
    from kerasmusic.data import notes as notes_module

    for i in range(5):
        km.write_midi(make_piece([(60 + i, 0, 1), (64, Fraction(1, 3), Fraction(1, 2))],
                                 [(40 + i, 0, 2)]), tmp_path / f"{i}.mid")
    made, real = [], notes_module.Note
    monkeypatch.setattr(notes_module, "Note", lambda *a: (made.append(1), real(*a))[1])
    corpus = km.load_corpus(tmp_path, workers=2, progress=False)
    assert len(corpus) == 5 and not made
    assert all(isinstance(t.arrays(), NoteArrays) for p in corpus for t in p.tracks)
    monkeypatch.undo()
    for i, piece in enumerate(corpus):
        assert piece.tracks == km.read_midi(tmp_path / f"{i}.mid").tracks
