import json

import numpy as np
import pytest

from kerasmusic.data import text as text_module
from kerasmusic.data.text import (
    CharEncoding,
    TextCorpus,
    as_text_corpus,
    chorale_lyrics,
    consecutive_batches,
    load_text_csv,
    load_texts,
    lyrics_cache_path,
    make_text_datasets,
    random_windows,
    read_label_file,
    split_corpus,
    text_dataset,
    validation_dataset,
)
from kerasmusic.errors import (
    EmptyTextError,
    KerasMusicError,
    TextReadError,
    UnknownCharactersError,
    UnknownLabelError,
    UnknownTokenError,
)

JAY = "分开 一只在停留 谁让它停留的\n为什么我女朋友场外加油\n"


def test_chinese_files_load_and_the_vocabulary_round_trips(tmp_path):
    (tmp_path / "a.txt").write_text(JAY, encoding="utf-8")
    # A byte-order mark and Windows line ends, as Notepad writes them.
    (tmp_path / "b.txt").write_bytes("\ufeff不分开\r\n期 我叫你爸\r\n".encode())
    corpus = load_texts(tmp_path)
    assert corpus.documents == [JAY, "不分开\n期 我叫你爸\n"]
    assert corpus.sources == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    enc = CharEncoding.fit(corpus)
    assert "分" in enc.chars and "\r" not in enc.chars and "\ufeff" not in enc.chars
    assert enc.decode(enc.encode("分开 我叫你")) == "分开 我叫你"
    enc.save(tmp_path / "enc.json")
    assert '"分"' in (tmp_path / "enc.json").read_text(encoding="utf-8")  # not \\u5206
    assert CharEncoding.load(tmp_path / "enc.json") == enc
    # Composed and decomposed accents are one character after NFC normalisation.
    german = CharEncoding.fit(["Gn\u00e4de"])
    assert german.decode(german.encode("Gna\u0308de")) == "Gn\u00e4de"


def test_empty_text_names_its_file(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text(" \n\n\t", encoding="utf-8")
    for name in ("empty.txt", "blank.txt"):
        with pytest.raises(EmptyTextError, match=name) as info:
            load_texts(tmp_path / name)
        assert info.value.path == str(tmp_path / name)
    with pytest.raises(EmptyTextError, match="<document 1>"):
        TextCorpus(["fine", ""])


def test_unreadable_text_files(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Gr\u00fc\u00dfe".encode("latin-1"))
    with pytest.raises(TextReadError, match="latin1.txt: not UTF-8"):
        load_texts(tmp_path / "latin1.txt")
    with pytest.raises(TextReadError, match="no such file"):
        load_texts(tmp_path / "missing.txt")
    (tmp_path / "sub").mkdir()
    with pytest.raises(KerasMusicError, match="no text files"):
        load_texts(tmp_path / "sub")


def test_prime_with_unknown_characters_lists_them():
    enc = CharEncoding.fit(["hello there", "why not"])
    with pytest.raises(UnknownCharactersError) as info:
        enc.encode("Why 你好, why?", where="the prime")
    err = info.value
    assert err.characters == ["W", "你", "好", ",", "?"]
    assert "the prime" in str(err) and "'你'" in str(err) and "'?'" in str(err)
    assert isinstance(err, UnknownTokenError) and isinstance(err, KerasMusicError)


def test_label_not_seen_in_training():
    enc = CharEncoding.fit(TextCorpus(["la la", "na na"], labels=["ABBA", "Queen"]))
    assert enc.n_labels == 2 and enc.label_id("Queen") == 1
    with pytest.raises(UnknownLabelError, match="'Nirvana' was not seen in training") as info:
        enc.label_id("Nirvana")
    assert info.value.known == ["ABBA", "Queen"] and "'ABBA'" in str(info.value)
    with pytest.raises(KerasMusicError, match="not conditional"):
        CharEncoding.fit(["la la"]).label_id("ABBA")


def test_labels_from_a_label_file_a_list_or_a_mapping(tmp_path):
    for name, body in (("abba.txt", "I do, I do"), ("queen.txt", "We will"), ("q2.txt", "rock")):
        (tmp_path / name).write_text(body, encoding="utf-8")
    label_file = tmp_path / "labels.tsv"
    label_file.write_text("# file\tartist\nabba.txt\tABBA\nqueen.txt\tQueen\nq2\tQueen\n",
                          encoding="utf-8")
    assert read_label_file(label_file)["abba.txt"] == "ABBA"
    corpus = load_texts(tmp_path, labels=label_file)
    assert corpus.labels == ["ABBA", "Queen", "Queen"]  # files sorted: abba, q2, queen
    assert load_texts(tmp_path, labels=["a", "b", "c"]).labels == ["a", "b", "c"]
    with pytest.raises(KerasMusicError, match="2 labels for 3 files"):
        load_texts(tmp_path, labels=["a", "b"])
    with pytest.raises(KerasMusicError, match="queen.txt: no label"):
        load_texts(tmp_path, labels={"abba": "ABBA", "q2": "Queen"})
    label_file.write_text("abba.txt ABBA\n", encoding="utf-8")
    with pytest.raises(TextReadError, match="line 1"):
        read_label_file(label_file)


def test_csv_rows_are_documents(tmp_path):
    path = tmp_path / "songs.csv"
    path.write_text('artist,song,text\nABBA,SOS,"Where are\nthose happy days"\n'
                    'Queen,x,\nQueen,Bicycle,"I want to ride"\n', encoding="utf-8")
    with pytest.warns(UserWarning, match="skipped 1 rows"):
        corpus = as_text_corpus(path, "artist")
    assert corpus.documents == ["Where are\nthose happy days", "I want to ride"]
    assert corpus.labels == ["ABBA", "Queen"]
    with pytest.raises(TextReadError, match="no column 'lyrics'"):
        load_text_csv(path, text_column="lyrics")


def test_stream_separates_documents_and_labels_every_position():
    corpus = TextCorpus(["ab", "c"], labels=["y", "x"])
    enc = CharEncoding.fit(corpus, separator="|")
    ids, labels = enc.stream(corpus)
    assert enc.decode(ids) == "|ab|c|"
    # The separator before a document carries that document's label.
    assert labels.tolist() == [1, 1, 1, 0, 0, 0]
    assert CharEncoding.fit(["ab"]).stream(TextCorpus(["ab"]))[1] is None


def test_consecutive_batches_continue_every_row():
    stream = np.arange(1000, dtype=np.int32)  # unique ids: position is readable from the id
    x, y, lab = consecutive_batches(stream, batch_size=4, seq_len=10, label_ids=stream * 3)
    assert x.shape == y.shape == lab.shape == (24, 4, 10)  # 999 // 4 = 249 per row, 24 windows
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(lab, x * 3)
    for t in range(23):  # row i of batch t + 1 starts where row i of batch t stopped
        np.testing.assert_array_equal(x[t + 1, :, 0], x[t, :, -1] + 1)
    starts = x[0, :, 0]
    np.testing.assert_array_equal(starts, [0, 249, 498, 747])  # disjoint stretches of the text

    ds = text_dataset(stream, 10, 4, mode="consecutive", label_ids=stream * 3)
    for _ in range(2):  # the same order every epoch: nothing shuffles consecutive batches
        batches = list(ds.as_numpy_iterator())
        assert len(batches) == 24
        for t, (inputs, targets) in enumerate(batches):
            np.testing.assert_array_equal(inputs["chars"], x[t])
            np.testing.assert_array_equal(inputs["labels"], lab[t])
            np.testing.assert_array_equal(targets, y[t])
    with pytest.raises(KerasMusicError, match="too short for 4 rows of 300"):
        consecutive_batches(stream, 4, 300)


def test_random_windows_are_shuffled_slices_of_the_stream():
    stream = np.arange(500, dtype=np.int32)
    x, y, _ = random_windows(stream, 16)
    assert x.shape == (31, 16)
    np.testing.assert_array_equal(x[:, 0], np.arange(31) * 16)
    np.testing.assert_array_equal(y, x + 1)
    ds = text_dataset(stream, 16, 8, mode="random", seed=3)
    epoch1 = np.concatenate([b[0] for b in ds.as_numpy_iterator()])
    epoch2 = np.concatenate([b[0] for b in ds.as_numpy_iterator()])
    again = np.concatenate([b[0] for b in text_dataset(stream, 16, 8, seed=3)
                            .as_numpy_iterator()])
    assert sorted(epoch1[:, 0]) == sorted(x[:, 0]) == sorted(epoch2[:, 0])
    assert not np.array_equal(epoch1, epoch2)  # reshuffled every epoch
    np.testing.assert_array_equal(epoch1, again)  # and fixed by the seed
    np.testing.assert_array_equal(epoch1[:, 1:], epoch1[:, :-1] + 1)
    unconditional = next(iter(ds))[0]
    assert unconditional.shape == (8, 16)  # a bare tensor: the single-input model's input
    with pytest.raises(KerasMusicError, match="mode must be one of"):
        text_dataset(stream, 16, 8, mode="shuffled")


def test_split_holds_out_whole_documents_or_the_end_of_one():
    docs = [f"document number {i}" for i in range(20)] + ["document number 3"]
    train, val = split_corpus(TextCorpus(docs), 0.2, seed=1)
    assert len(train) + len(val) == 20  # the repeated document is kept once
    assert not set(train.documents) & set(val.documents)
    assert split_corpus(TextCorpus(docs), 0.2, seed=1)[1].documents == val.documents
    assert split_corpus(TextCorpus(docs), 0.0)[1] is None
    lines = "".join(f"line {i}\n" for i in range(100))
    train, val = split_corpus(TextCorpus([lines]), 0.1)
    assert train.documents[0] + val.documents[0] == lines
    assert val.documents[0].startswith("line ") and 0.05 < len(val.documents[0]) / len(lines) < 0.15
    with pytest.raises(KerasMusicError, match="fewer than seq_len"):
        validation_dataset(np.arange(10), 32, 4)
    labelled = TextCorpus(docs[:20], labels=["a", "b"] * 10)
    train_ds, val_ds = make_text_datasets(labelled, CharEncoding.fit(labelled), 8, 4, seed=1)
    inputs, targets = next(iter(val_ds))
    assert set(inputs) == {"chars", "labels"} and targets.shape == (4, 8)
    assert sum(1 for _ in train_ds) > sum(1 for _ in val_ds) > 0


def test_chorale_lyrics_are_parsed_once_then_read_from_the_cache(cache_dir, monkeypatch):
    corpus = chorale_lyrics(limit=3)
    assert len(corpus) == 3
    assert corpus.documents[0].startswith("Aus meines Herzens Grunde")
    assert all("\n" not in d for d in corpus.documents)
    cached = json.loads(lyrics_cache_path().read_text(encoding="utf-8"))
    assert len(cached["lyrics"]) == 3

    parsed = []
    real = text_module._lyrics_of
    monkeypatch.setattr(text_module, "_lyrics_of", lambda path: parsed.append(path) or real(path))
    assert chorale_lyrics(limit=3, progress=False).documents == corpus.documents
    assert parsed == []  # all from the cache
    more = chorale_lyrics(limit=4, progress=False)
    assert len(parsed) == 1 and more.documents[:3] == corpus.documents
    assert as_text_corpus(None, limit=4).documents == more.documents
