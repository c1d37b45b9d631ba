"""Text for character-level language models: loading, a character encoding, ``tf.data``.

- :class:`TextCorpus`: documents (each a string), optionally a label per document
  (an artist, a style) for conditional models, and where each came from.
- Loaders: :func:`load_texts` (UTF-8 files or folders, any language),
  :func:`load_text_csv` (a text column and a label column), :func:`chorale_lyrics`
  (the embedded default: the lyrics of the Bach chorales bundled with music21,
  parsed once and cached as JSON), and :func:`as_text_corpus`, which picks one.
- :class:`CharEncoding`: the character vocabulary (and the label vocabulary),
  JSON save/load, encode/decode.
- Batching: :func:`text_dataset` in two modes. ``"random"``: shuffled windows, the
  LSTM state starts from zero in every batch. ``"consecutive"``: the stream is cut
  into ``batch_size`` long rows and row ``i`` of batch ``t + 1`` continues row ``i``
  of batch ``t``, for truncated backpropagation through time with the state carried
  over. :func:`make_text_datasets` adds the held-out split.

The documents are joined into one stream, each one preceded by the encoding's
separator (``"\\n\\n"``) and the last one followed by it: the model learns how a
document starts and ends, and generation primed with the separator starts a new one.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from kerasmusic.data.config_schema import STRING, STRINGS, or_none
from kerasmusic.data.corpus import (
    SkippedFileWarning,
    _folder_files,
    corpus_files,
    default_cache_dir,
)
from kerasmusic.data.json_config import JsonConfigMixin, write_json_atomic
from kerasmusic.data.pipeline import split_pieces
from kerasmusic.data.vocabulary import Vocabulary
from kerasmusic.errors import (
    EmptyTextError,
    KerasMusicError,
    TextReadError,
    UnknownCharactersError,
    UnknownLabelError,
)

SEPARATOR = "\n\n"
TEXT_SUFFIXES = (".txt",)
MODES = ("random", "consecutive")
# Bump when the lyrics extraction changes, so stale cache files are ignored.
LYRICS_VERSION = 1


def normalize_text(text: str) -> str:
    """NFC-normalise ``text`` and turn Windows / old Mac line ends into ``\\n``.

    Without NFC, an accented letter typed as one code point and the same letter
    typed as a letter plus a combining accent would be different characters.
    """
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


class TextCorpus:
    """Documents to train a character model on.

    Args:
        documents: the texts; each must hold at least one non-space character.
        labels: one label per document (e.g. the artist), or None.
        sources: where each document came from (a path, ``path:line``), used in errors.

    Raises:
        EmptyTextError: a document is empty (the error names its source).
    """

    def __init__(self, documents: Sequence[str], labels: Sequence[str] | None = None,
                 sources: Sequence[str] | None = None):
        if isinstance(documents, str):
            raise KerasMusicError("TextCorpus takes a list of documents, not a single string")
        self.documents = [normalize_text(d) for d in documents]
        self.sources = ([str(s) for s in sources] if sources is not None
                        else [f"<document {i}>" for i in range(len(self.documents))])
        self.labels = None if labels is None else [str(label) for label in labels]
        if len(self.sources) != len(self.documents):
            raise KerasMusicError(f"{len(self.sources)} sources for {len(self.documents)} "
                                  "documents")
        if self.labels is not None and len(self.labels) != len(self.documents):
            raise KerasMusicError(f"{len(self.labels)} labels for {len(self.documents)} "
                                  "documents: give one label per document")
        if not self.documents:
            raise EmptyTextError("<corpus>", "no documents")
        for doc, source in zip(self.documents, self.sources):
            if not doc.strip():
                raise EmptyTextError(source, "the text is empty")

    def __len__(self) -> int:
        return len(self.documents)

    def __repr__(self) -> str:
        labels = f", {len(set(self.labels))} labels" if self.labels else ""
        return f"TextCorpus({len(self)} documents, {self.n_chars} characters{labels})"

    @property
    def n_chars(self) -> int:
        """Characters over all documents."""
        return sum(len(d) for d in self.documents)

    def subset(self, indices: Sequence[int]) -> TextCorpus:
        """The documents at ``indices``, with their labels and sources."""
        return TextCorpus([self.documents[i] for i in indices],
                          None if self.labels is None else [self.labels[i] for i in indices],
                          [self.sources[i] for i in indices])


def read_text(path: str | os.PathLike) -> str:
    """The normalised text of a UTF-8 file (a byte-order mark is dropped).

    Raises:
        TextReadError: the file is missing or not UTF-8.
        EmptyTextError: the file holds no text (only whitespace counts as none).
    """
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise TextReadError(path, "no such file") from None
    except IsADirectoryError:
        raise TextReadError(path, "is a folder, not a text file") from None
    except UnicodeDecodeError as exc:
        raise TextReadError(path, f"not UTF-8 text (byte {exc.start}: {exc.reason}); "
                                  "convert it to UTF-8 first") from None
    except OSError as exc:
        raise TextReadError(path, f"cannot be read: {exc.strerror or exc}") from None
    if not text.strip():
        raise EmptyTextError(path, "the file holds no text")
    return normalize_text(text)


def read_label_file(path: str | os.PathLike) -> dict[str, str]:
    """Read ``file<TAB>label`` lines (blank lines and ``#`` comments skipped).

    File names may be relative to the label file's folder, bare names or stems;
    :func:`load_texts` matches any of them.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TextReadError(path, f"cannot read the label file: {exc}") from None
    base = Path(path).parent
    labels = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, label = line.partition("\t")
        if not sep or not name.strip() or not label.strip():
            raise TextReadError(path, f"line {number}: expected 'file<TAB>label', got {line!r}")
        name = name.strip()
        labels[name] = label.strip()
        if not os.path.isabs(name):
            labels.setdefault(os.path.abspath(base / name), label.strip())
    return labels


def _text_files(source, suffixes: Sequence[str]) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    files = []
    for item in source:
        item = os.fspath(item)
        if os.path.isdir(item):
            files.extend(_folder_files(item, suffixes, "text files"))
        else:
            files.append(item)
    return list(dict.fromkeys(files))


def _label_of(path: str, mapping: Mapping[str, str]) -> str:
    p = Path(path)
    for key in (path, os.path.abspath(path), p.name, p.stem):
        if key in mapping:
            return str(mapping[key])
    raise KerasMusicError(f"{path}: no label for this file in the labels given")


def load_texts(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    labels: Sequence[str] | Mapping[str, str] | str | os.PathLike | None = None,
    *,
    suffixes: Sequence[str] = TEXT_SUFFIXES,
) -> TextCorpus:
    """Read UTF-8 text files, one document per file.

    Args:
        source: a file, a folder (searched recursively for ``suffixes``, sorted) or
            a list of files and folders.
        labels: None; a label per file (in load order); a mapping from file path,
            name or stem to label; or the path of a label file (:func:`read_label_file`).
        suffixes: file suffixes taken from folders.

    Raises:
        TextReadError / EmptyTextError: a file is unreadable, not UTF-8, or empty.
    """
    files = _text_files(source, tuple(s.lower() for s in suffixes))
    documents = [read_text(f) for f in files]
    if labels is None:
        return TextCorpus(documents, None, files)
    if isinstance(labels, (str, os.PathLike)):
        labels = read_label_file(labels)
    if isinstance(labels, Mapping):
        labels = [_label_of(f, labels) for f in files]
    elif len(labels) != len(files):
        raise KerasMusicError(f"{len(labels)} labels for {len(files)} files: give one per file")
    return TextCorpus(documents, list(labels), files)


def load_text_csv(
    path: str | os.PathLike, text_column: str = "text", label_column: str | None = None
) -> TextCorpus:
    """One document per CSV row (e.g. a lyrics table with ``artist`` and ``text`` columns).

    Rows with an empty text cell are skipped with a warning saying how many.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            for column in (text_column, label_column):
                if column is not None and column not in columns:
                    raise TextReadError(path, f"no column {column!r}; columns: {columns}")
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise TextReadError(path, "no such file") from None
    except UnicodeDecodeError as exc:
        raise TextReadError(path, f"not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise TextReadError(path, f"not a readable CSV file: {exc}") from None
    documents, labels, sources, empty = [], [], [], 0
    for line, row in rows:
        text = row.get(text_column) or ""
        if not text.strip():
            empty += 1
            continue
        documents.append(text)
        labels.append(row.get(label_column) or "")
        sources.append(f"{os.fspath(path)}:{line}")
    if empty:
        warnings.warn(f"kerasmusic: {os.fspath(path)}: skipped {empty} rows with no text",
                      SkippedFileWarning, stacklevel=2)
    if not documents:
        raise EmptyTextError(path, f"no row has text in column {text_column!r}")
    return TextCorpus(documents, labels if label_column else None, sources)


def _lyrics_of(path: str) -> str:
    """The lyrics of a chorale: the first part that has any (the soprano, in practice)."""
    import music21

    score = music21.converter.parse(path, forceSource=True)  # we cache; music21 need not
    for part in score.parts:
        text = music21.text.assembleLyrics(part)
        if text and text.strip():
            return normalize_text(" ".join(text.split()))
    return ""


def lyrics_cache_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The JSON file caching the chorale lyrics."""
    return Path(cache_dir or default_cache_dir()) / "lyrics" / "chorales.json"


def chorale_lyrics(
    limit: int | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> TextCorpus:
    """The lyrics of the Bach chorales bundled with music21 (German), one document each.

    Parsing a chorale takes ~0.15 s, so the lyrics are cached in
    :func:`lyrics_cache_path` (JSON) after the first run. Chorales without lyrics
    are left out, and a text that repeats an earlier one (a hymn verse harmonised
    twice) is kept once, so no text is on both sides of a train/validation split.

    Args:
        limit: read only the first ``limit`` chorale files (350 in all).
        cache_dir: default :func:`kerasmusic.data.corpus.default_cache_dir`.
        progress: print a progress line to stderr while parsing.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of files, not {limit!r}")
    files = corpus_files("chorales")[:limit]
    cache_file = lyrics_cache_path(cache_dir)
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        lyrics = cached["lyrics"] if cached.get("version") == LYRICS_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        lyrics = {}
    todo = [f for f in files if Path(f).name not in lyrics]
    for done, path in enumerate(todo, 1):
        try:
            lyrics[Path(path).name] = _lyrics_of(path)
        except Exception as exc:  # a music21 failure must not cost the other chorales
            warnings.warn(f"kerasmusic: skipped {path}: {type(exc).__name__}: {exc}",
                          SkippedFileWarning, stacklevel=2)
        if progress and (done == len(todo) or done % 25 == 0):
            print(f"reading chorale lyrics: {done}/{len(todo)} files", file=sys.stderr,
                  flush=True)
    if todo:
        try:
            write_json_atomic(cache_file, {"version": LYRICS_VERSION, "lyrics": lyrics},
                              ensure_ascii=False)
        except OSError as exc:
            warnings.warn(f"kerasmusic: cannot write the lyrics cache {cache_file}: {exc}",
                          stacklevel=2)
    documents, sources, seen = [], [], set()
    for path in files:
        text = lyrics.get(Path(path).name, "")
        if text and text not in seen:
            seen.add(text)
            documents.append(text)
            sources.append(path)
    if not documents:
        raise EmptyTextError("chorales", "none of the chorales read has lyrics")
    return TextCorpus(documents, None, sources)


def as_text_corpus(
    source: TextCorpus | str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    labels: Sequence[str] | Mapping[str, str] | str | os.PathLike | None = None,
    *,
    limit: int | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> TextCorpus:
    """Whatever a user points at, as a :class:`TextCorpus`.

    Args:
        source: None or ``"chorales"``: the bundled chorale lyrics (:func:`chorale_lyrics`,
            ``limit`` and ``cache_dir`` apply); a :class:`TextCorpus`; a ``.csv`` file
            (:func:`load_text_csv`, column ``text``; ``labels`` names the label column);
            otherwise text files or folders (:func:`load_texts`). Raw strings are not
            guessed at: wrap them as ``TextCorpus(["text one", "text two"])``.
        labels: see :func:`load_texts`; for a CSV file, the label column's name.
    """
    if isinstance(source, TextCorpus):
        if labels is not None:
            raise KerasMusicError("give labels inside the TextCorpus, not beside it")
        return source
    if source is None or (isinstance(source, str) and source.lower() in ("chorales", "bach")
                          and not os.path.exists(source)):
        if labels is not None:
            raise KerasMusicError("the bundled chorale lyrics have no labels")
        return chorale_lyrics(limit, cache_dir=cache_dir)
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".csv":
        if labels is not None and not isinstance(labels, str):
            raise KerasMusicError("for a CSV file, labels= is the name of the label column")
        return load_text_csv(source, label_column=labels)
    return load_texts(source, labels)


class CharEncoding(JsonConfigMixin):
    """Characters (and labels) <-> ids, saved as JSON (UTF-8: e.g. Chinese stays readable).

    Args:
        chars: the character vocabulary (a :class:`Vocabulary` or the characters).
        labels: the label vocabulary for a conditional model, or None.
        separator: the string that starts every document in the training stream.

    Example:
    ```python
    enc = CharEncoding.fit(TextCorpus(["分开 一只在停留", "不分开"]))
    enc.decode(enc.encode("分开"))   # '分开'
    ```
    """

    CONFIG_TYPE = "chars"
    CONFIG_NAME = "a character encoding"
    CONFIG_SCHEMA = {"chars": (STRINGS, True), "separator": (STRING, False),
                     "labels": (or_none(STRINGS), False)}

    def __init__(self, chars: Vocabulary | Sequence[str], labels: Vocabulary | Sequence[str]
                 | None = None, separator: str = SEPARATOR):
        self.chars = chars if isinstance(chars, Vocabulary) else Vocabulary(chars, "character")
        if labels is not None and not isinstance(labels, Vocabulary):
            labels = Vocabulary(labels, "label")
        self.labels = labels
        self.separator = separator
        bad = [t for t in self.chars.tokens if len(t) != 1]
        if bad:
            raise KerasMusicError(f"a character vocabulary holds single characters, not {bad[:5]}")
        if not separator:
            raise KerasMusicError("the separator must be at least one character")
        missing = [c for c in dict.fromkeys(separator) if c not in self.chars]
        if missing:
            raise KerasMusicError(f"the separator's characters {missing} are not in the "
                                  "vocabulary")
        self._index = {c: i for i, c in enumerate(self.chars.tokens)}

    @classmethod
    def fit(cls, corpus: TextCorpus | Sequence[str], separator: str = SEPARATOR) -> CharEncoding:
        """Every character of ``corpus`` (and the separator's), sorted; its labels, sorted.

        Fit on the whole corpus, held-out documents included: the alphabet is not
        something to validate, and a validation text with a character the model
        never saw would have no id.
        """
        if not isinstance(corpus, TextCorpus):
            corpus = TextCorpus(corpus)
        chars = set(separator)
        for doc in corpus.documents:
            chars.update(doc)
        labels = sorted(set(corpus.labels)) if corpus.labels is not None else None
        return cls(Vocabulary(sorted(chars), "character"),
                   None if labels is None else Vocabulary(labels, "label"), separator)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharEncoding) and self.get_config() == other.get_config()

    def __repr__(self) -> str:
        labels = f", {self.n_labels} labels" if self.labels is not None else ""
        return f"CharEncoding({self.vocab_size} characters{labels})"

    @property
    def vocab_size(self) -> int:
        """Number of characters."""
        return len(self.chars)

    @property
    def n_labels(self) -> int:
        """Number of labels (0 for an unconditional model)."""
        return 0 if self.labels is None else len(self.labels)

    def encode(self, text: str, where: str = "the text") -> np.ndarray:
        """int32 ids of the characters of ``text`` (NFC-normalised first).

        Raises:
            UnknownCharactersError: listing every character of ``text`` not in the vocabulary.
        """
        text = normalize_text(text)
        unknown = [c for c in dict.fromkeys(text) if c not in self._index]
        if unknown:
            raise UnknownCharactersError(unknown, where)
        index = self._index
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        """The text of ``ids``."""
        return "".join(self.chars.decode(np.asarray(ids).reshape(-1).tolist()))

    def label_id(self, label: str) -> int:
        """Id of ``label``; raises UnknownLabelError (listing the known ones) if unseen."""
        if self.labels is None:
            raise KerasMusicError(f"label {label!r} given, but this encoding has no labels: "
                                  "the model is not conditional")
        if label not in self.labels:
            raise UnknownLabelError(label, self.labels.tokens)
        return self.labels.id(label)

    def stream(self, corpus: TextCorpus) -> tuple[np.ndarray, np.ndarray | None]:
        """The corpus as one id stream ``sep doc1 sep doc2 ... docN sep``, and a label per id.

        The separator before a document carries that document's label, so a label
        also tells the model what kind of document to start.
        """
        sep = self.encode(self.separator)
        parts, label_parts = [], []
        for i, (doc, source) in enumerate(zip(corpus.documents, corpus.sources)):
            ids = np.concatenate([sep, self.encode(doc, source)])
            parts.append(ids)
            if self.labels is not None:
                if corpus.labels is None:
                    raise KerasMusicError("this encoding is conditional: the corpus needs labels")
                label_parts.append(np.full(len(ids), self.label_id(corpus.labels[i]), np.int32))
        parts.append(sep)
        ids = np.concatenate(parts).astype(np.int32)
        if self.labels is None:
            return ids, None
        label_parts.append(np.full(len(sep), label_parts[-1][-1], np.int32))
        return ids, np.concatenate(label_parts).astype(np.int32)

    def check_model(self, model) -> None:
        """Raise VocabularyMismatchError unless ``model`` fits this encoding."""
        from kerasmusic.models.char_rnn import check_char_encoding

        check_char_encoding(model, self)

    def get_config(self) -> dict:
        """JSON-ready description; :meth:`from_config` is its inverse."""
        return {"type": self.CONFIG_TYPE, "chars": self.chars.tokens, "separator": self.separator,
                "labels": None if self.labels is None else self.labels.tokens}


def split_corpus(
    corpus: TextCorpus, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[TextCorpus, TextCorpus | None]:
    """Hold out whole documents for validation (seeded), or the end of a single document.

    A document that repeats an earlier one exactly (same text and label) is kept
    once first, so it cannot land on both sides. With ``validation_fraction`` 0 the
    validation part is None.
    """
    if not 0 <= validation_fraction < 1:
        raise KerasMusicError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    keys = list(zip(corpus.documents, corpus.labels or [None] * len(corpus)))
    keep = list({key: i for i, key in reversed(list(enumerate(keys)))}.values())
    corpus = corpus.subset(sorted(keep))
    if validation_fraction == 0:
        return corpus, None
    if len(corpus) == 1:
        doc = corpus.documents[0]
        cut = len(doc) - max(1, round(len(doc) * validation_fraction))
        line_start = doc.find("\n", cut, cut + 200)  # start validation on a new line if near
        cut = line_start + 1 if 0 <= line_start < len(doc) - 1 else cut
        if cut < 1 or not doc[:cut].strip() or not doc[cut:].strip():
            raise KerasMusicError(f"{corpus.sources[0]}: too short to hold out "
                                  f"{validation_fraction:.0%} for validation")
        labels = corpus.labels
        return (TextCorpus([doc[:cut]], labels, [corpus.sources[0]]),
                TextCorpus([doc[cut:]], labels, [f"{corpus.sources[0]} (held out)"]))
    train, val = split_pieces(range(len(corpus)), validation_fraction, seed)
    return corpus.subset(train), corpus.subset(val)


def random_windows(
    ids, seq_len: int, label_ids=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Non-overlapping windows of the stream: inputs (N, seq_len), targets shifted by one.

    Returns:
        (inputs, targets, labels or None), each (N, seq_len) int32.
    """
    ids = np.asarray(ids, np.int32)
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise KerasMusicError(f"a text of {len(ids)} ids is too short for windows of "
                              f"{seq_len}; use a smaller seq_len")
    x = ids[:n * seq_len].reshape(n, seq_len)
    y = ids[1:n * seq_len + 1].reshape(n, seq_len)
    lab = None if label_ids is None else \
        np.asarray(label_ids, np.int32)[:n * seq_len].reshape(n, seq_len)
    return x, y, lab


def consecutive_batches(
    ids, batch_size: int, seq_len: int, label_ids=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Batches for truncated BPTT: row ``i`` of batch ``t + 1`` continues row ``i`` of batch ``t``.

    The stream is cut into ``batch_size`` equal rows (the tail that does not fill
    a whole batch is dropped); batch ``t`` holds columns ``t*seq_len ... (t+1)*seq_len``
    of every row.

    Returns:
        (inputs, targets, labels or None), each (n_batches, batch_size, seq_len) int32.
    """
    ids = np.asarray(ids, np.int32)
    row_len = (len(ids) - 1) // batch_size
    n_batches = row_len // seq_len
    if n_batches < 1:
        raise KerasMusicError(
            f"a text of {len(ids)} ids is too short for {batch_size} rows of {seq_len}: "
            "use a smaller batch_size or seq_len")
    used = n_batches * seq_len

    def layout(a, shift):
        rows = np.stack([a[r * row_len + shift: r * row_len + shift + used]
                         for r in range(batch_size)])
        return np.ascontiguousarray(
            rows.reshape(batch_size, n_batches, seq_len).transpose(1, 0, 2))

    lab = None if label_ids is None else layout(np.asarray(label_ids, np.int32), 0)
    return layout(ids, 0), layout(ids, 1), lab


def text_dataset(
    ids,
    seq_len: int,
    batch_size: int,
    *,
    mode: str = "random",
    label_ids=None,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``(x, y)`` or ``({"chars": x, "labels": l}, y)`` batches.

    Every tensor is int32 of shape (batch, seq_len); ``y`` is ``x`` shifted by one
    character. The second form, with labels, feeds a conditional model.

    Args:
        ids: the id stream (:meth:`CharEncoding.stream`).
        seq_len: characters per window (the truncation length of BPTT).
        batch_size: rows per batch.
        mode: ``"random"`` (shuffled windows, reshuffled every epoch when ``shuffle``)
            or ``"consecutive"`` (:func:`consecutive_batches`, never shuffled).
        label_ids: a label id per stream position, for a conditional model.
        shuffle: shuffle the windows in random mode.
        seed: fixes the shuffling.
    """
    if mode not in MODES:
        raise KerasMusicError(f"mode must be one of {MODES}, got {mode!r}")
    if seq_len < 1 or batch_size < 1:
        raise KerasMusicError(f"seq_len and batch_size must be >= 1, got {seq_len}, {batch_size}")
    if mode == "consecutive":
        x, y, lab = consecutive_batches(ids, batch_size, seq_len, label_ids)
    else:
        x, y, lab = random_windows(ids, seq_len, label_ids)
    inputs = x if lab is None else {"chars": x, "labels": lab}
    ds = tf.data.Dataset.from_tensor_slices((inputs, y))
    if mode == "random":
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_text_datasets(
    corpus: TextCorpus,
    encoding: CharEncoding,
    seq_len: int = 64,
    batch_size: int = 32,
    *,
    mode: str = "consecutive",
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """Split ``corpus`` (:func:`split_corpus`) and batch both parts with :func:`text_dataset`.

    The validation part uses the same mode, never shuffled; in consecutive mode it
    has as many rows as its length allows, up to ``batch_size``.
    """
    train, val = split_corpus(corpus, validation_fraction, seed)
    ids, labels = encoding.stream(train)
    train_ds = text_dataset(ids, seq_len, batch_size, mode=mode, label_ids=labels, seed=seed)
    if val is None:
        return train_ds, None
    ids, labels = encoding.stream(val)
    return train_ds, validation_dataset(ids, seq_len, batch_size, mode=mode, label_ids=labels)


def validation_dataset(ids, seq_len: int, batch_size: int, *, mode: str = "consecutive",
                       label_ids=None) -> tf.data.Dataset:
    """:func:`text_dataset` for held-out text: unshuffled, fewer rows if the text is short."""
    if len(ids) - 1 < seq_len:
        raise KerasMusicError(f"the validation text has only {len(ids)} characters, fewer "
                              f"than seq_len={seq_len}: hold out more, or shorten seq_len")
    if mode == "consecutive":
        batch_size = max(1, min(batch_size, (len(ids) - 1) // seq_len))
    return text_dataset(ids, seq_len, batch_size, mode=mode, label_ids=label_ids, shuffle=False)
