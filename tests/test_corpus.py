import pytest
from builders import make_piece

import kerasmusic as km
from kerasmusic.data import corpus as corpus_module


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
    first = km.load_corpus("chorales", limit=3, workers=1, progress=False)
    assert len(first) == 3 and not first.errors
    assert len(list((cache_dir / "pieces").glob("*.json"))) == 3

    def no_parsing(path):
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(corpus_module, "read_file", no_parsing)
    second = km.load_corpus("chorales", limit=3, workers=1, progress=False)
    assert [p.to_dict() for p in second] == [p.to_dict() for p in first]


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
