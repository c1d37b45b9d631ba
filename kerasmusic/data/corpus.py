"""Loading many files at once: the bundled music21 corpus or a folder of your own.

Parsing scores with music21 is slow (a few files per second), so every parsed
file is cached on disk as an .npz of plain arrays (never pickle: the notes as integer
ticks, the rest as JSON text), keyed by the sha256 of its bytes:
the second load of a corpus reads only the cache, and an edited file is parsed
again. Uncached files are parsed in worker processes. A file that cannot be
read is reported (a warning and an entry in :attr:`Corpus.errors`) and skipped;
the rest still load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import sys
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from kerasmusic.data.json_config import write_bytes_atomic
from kerasmusic.data.midi import MIDI_SUFFIXES, read_midi
from kerasmusic.data.notes import Piece
from kerasmusic.data.parse_pool import file_error, parse_in_workers
from kerasmusic.data.scores import SCORE_SUFFIXES, read_scores
from kerasmusic.errors import CorpusError, FileReadError

# Bump when a reader changes what it returns, so stale cache entries are ignored.
READER_VERSION = "7"
# Bump when the cache files' layout changes.
CACHE_FORMAT = "npz-1"
CHORALE_NAMES = ("chorales", "bach")


class SkippedFileWarning(UserWarning):
    """A file of a corpus could not be read and was skipped."""


@dataclasses.dataclass
class Corpus:
    """The pieces that loaded and the errors of the files that did not.

    Attributes:
        pieces: the parsed pieces, in file order, duplicates removed.
        errors: one :class:`FileReadError` per file that could not be read.
    """

    pieces: list[Piece]
    errors: list[FileReadError]

    def __len__(self) -> int:
        return len(self.pieces)

    def __iter__(self) -> Iterator[Piece]:
        return iter(self.pieces)


def read_file_pieces(path: str | os.PathLike) -> list[Piece]:
    """Every piece of a MIDI file (one) or a score file (several for an ABC tune book)."""
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return [read_midi(path)]
    if suffix in SCORE_SUFFIXES:
        return read_scores(path)
    raise FileReadError(path, f"unknown file type {suffix!r}; expected one of "
                              f"{', '.join(MIDI_SUFFIXES + SCORE_SUFFIXES)}")


def read_file(path: str | os.PathLike) -> Piece:
    """Read a MIDI file (miditoolkit) or a score file (music21), chosen by its suffix.

    A file holding several pieces gives its first; see :func:`read_file_pieces`.
    """
    return read_file_pieces(path)[0]


def default_cache_dir() -> Path:
    """``$KERASMUSIC_CACHE`` if set, else ``~/.cache/kerasmusic``."""
    return Path(os.environ.get("KERASMUSIC_CACHE") or Path.home() / ".cache" / "kerasmusic")


def _cache_file(path: str, cache_dir: str) -> Path:
    digest = hashlib.sha256()
    digest.update(f"kerasmusic-reader-{READER_VERSION}-{CACHE_FORMAT}-"
                  f"{Path(path).suffix.lower()}\n".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return Path(cache_dir) / "pieces" / f"{digest.hexdigest()}.npz"


#: A parsed file as the cache holds it: {"pieces": [piece metadata + "rows"]} and the
#: (notes, 4) int64 rows of all its pieces (see :meth:`Piece.to_arrays`).
Entry = tuple[dict, np.ndarray]


def _read_cached(path: str, cache_dir: str, fractions: dict | None = None
                 ) -> list[Piece] | FileReadError | None:
    """The cached pieces of ``path``, the cached error of a file that failed, or None.

    ``fractions`` as in :meth:`Piece.from_arrays`.
    """
    try:
        with np.load(_cache_file(path, cache_dir), allow_pickle=False) as entry:
            meta = json.loads(entry["meta"].tobytes().decode("utf-8"))
            notes = entry["notes"]
        if "error" in meta:
            return file_error(path, *meta["error"])
        return _entry_pieces((meta, notes), fractions)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def _entry_pieces(entry: Entry, fractions: dict | None = None) -> list[Piece]:
    """The pieces of a cache entry (``fractions`` as in :meth:`Piece.from_arrays`).

    Raises:
        ValueError: the rows do not add up to what the metadata counts.
    """
    meta, notes = entry
    ends = np.cumsum([int(m["rows"]) for m in meta["pieces"]])
    if len(ends) and ends[-1] != len(notes):
        raise ValueError("the pieces' rows do not add up")
    return [Piece.from_arrays(m, rows, fractions) for m, rows in
            zip(meta["pieces"], np.split(notes, ends[:-1]))]


def _write_cache(path: str, cache_dir: str, meta: dict,
                 notes: np.ndarray = np.zeros((0, 4), np.int64)) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8),
             notes=notes)
    try:
        write_bytes_atomic(_cache_file(path, cache_dir), buffer.getvalue())
    except OSError as exc:  # an unwritable cache must not lose the parsed piece
        warnings.warn(f"kerasmusic: cannot write the parse cache in {cache_dir}: {exc}",
                      stacklevel=3)


def _parse_and_cache(path: str, cache_dir: str) -> Entry | FileReadError:
    """Parse one file, cache it, return its cache entry (or the error, not raised).

    The pieces are turned into arrays once, for the cache and for the caller (a worker
    sends them through its pipe as they are). A file the reader refuses is cached as its
    error, keyed by its content like a piece: it is not parsed again until it changes.
    A reader bug is not cached.
    """
    try:
        metas, blocks = [], []
        for piece in read_file_pieces(path):
            meta, notes = piece.to_arrays()
            metas.append(meta | {"rows": len(notes)})
            blocks.append(notes)
    except FileReadError as exc:
        if os.path.isfile(path):
            _write_cache(path, cache_dir, {"error": [type(exc).__name__, exc.reason]})
        return exc
    except Exception as exc:  # a reader bug must not cost the rest of the corpus
        return FileReadError(path, f"unexpected {type(exc).__name__} while reading: {exc}")
    entry = ({"pieces": metas},
             np.concatenate(blocks) if blocks else np.zeros((0, 4), np.int64))
    _write_cache(path, cache_dir, *entry)
    return entry


def _notes_key(piece: Piece) -> bytes:
    """A digest of the notes of each track of ``piece``, in order (not their names)."""
    digest = hashlib.sha256()
    for track in piece.tracks:
        arrays = track.arrays()
        if arrays is None:
            digest.update(repr(track.notes).encode())
            continue
        digest.update(f"|{arrays.ticks_per_quarter} {len(arrays)}|".encode())
        for column in (arrays.start, arrays.duration, arrays.pitch, arrays.velocity):
            digest.update(column.tobytes())
    return digest.digest()


def _folder_files(folder: str | os.PathLike, suffixes: Sequence[str], what: str) -> list[str]:
    """The files under ``folder`` (recursively) with one of ``suffixes``, sorted.

    Raises:
        CorpusError: there is none (the message names the folder and ``what``).
    """
    files = sorted(str(p) for p in Path(folder).rglob("*")
                   if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise CorpusError(f"{os.fspath(folder)}: no {what} ({', '.join(suffixes)}) in this "
                          "folder")
    return files


def corpus_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The files a :func:`load_corpus` source stands for, in load order, each once.

    Raises:
        CorpusError: an unknown name, a missing path or a folder without music files.
    """
    if isinstance(source, (list, tuple)):
        return list(dict.fromkeys(os.fspath(p) for p in source))
    source_str = os.fspath(source)
    if os.path.isdir(source_str):
        return _folder_files(source_str, MIDI_SUFFIXES + SCORE_SUFFIXES, "MIDI or score files")
    if source_str.lower() in CHORALE_NAMES:
        return _chorale_files()
    files = _composer_files(source_str)
    if files:
        return files
    if os.path.isfile(source_str):
        return [source_str]
    if os.sep in source_str or "/" in source_str or source_str.startswith((".", "~")):
        raise CorpusError(f"{source_str}: no such file or folder")
    raise CorpusError(
        f"{source_str!r} is not a file, a folder or a corpus name. Corpus names: "
        f"'chorales' (alias 'bach'), or a folder of the music21 corpus: "
        f"{', '.join(repr(n) for n in corpus_names())}"
    )


def corpus_names() -> list[str]:
    """The folders of music21's bundled corpus, each a name :func:`load_corpus` takes."""
    import music21

    root = Path(music21.common.getCorpusFilePath())
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _chorale_files() -> list[str]:
    """The distinct files of ``music21.corpus.chorales.Iterator()`` (371 entries, 350 files).

    Names are resolved exactly: ``corpus.getWork("bach/bwv69.6")`` matches by prefix
    and would give ``bwv69.6-a.mxl``, a different file.
    """
    import music21

    root = Path(music21.common.getCorpusFilePath())
    files = []
    for name in dict.fromkeys(music21.corpus.chorales.Iterator(returnType="filename")):
        exact = [root / f"{name}{suffix}" for suffix in (".mxl", ".musicxml", ".xml", ".krn")]
        found = [p for p in exact if p.is_file()] or music21.corpus.getWork(name)
        files.append(_preferred_format(found))
    return list(dict.fromkeys(files))


def _composer_files(name: str) -> list[str]:
    """Readable files of a music21 corpus folder, one format per work, sorted."""
    import music21

    suffixes = MIDI_SUFFIXES + SCORE_SUFFIXES
    by_work: dict[str, list] = {}  # a work may be there twice, as MusicXML and as kern
    for p in music21.corpus.getComposer(name):
        if Path(p).suffix.lower() in suffixes:  # not .rntxt analyses
            by_work.setdefault(str(Path(p).with_suffix("")), []).append(p)
    return sorted(_preferred_format(paths) for paths in by_work.values())


def _preferred_format(found) -> str:
    """music21 lists a work once per format (kern and MusicXML): take MusicXML."""
    if not isinstance(found, (list, tuple)):
        return str(found)
    order = {".mxl": 0, ".musicxml": 1, ".xml": 2}
    return str(min(found, key=lambda p: (order.get(Path(p).suffix, 3), str(p))))


def load_corpus(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    limit: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
    file_timeout: float | None = 120.0,
) -> Corpus:
    """Load every piece of a corpus, using and filling the on-disk parse cache.

    Args:
        source: ``"chorales"`` (alias ``"bach"``: the 350 distinct Bach chorale
            files bundled with music21, in ``corpus.chorales.Iterator()`` order),
            another folder of music21's corpus (:func:`corpus_names`: ``"mozart"``,
            ``"essenFolksong"``, ``"nottingham-dataset"``...), a folder (searched
            recursively for .mid/.midi/.xml/.mxl/.musicxml/.krn/.abc, sorted), a
            file, or a list of files.
        limit: load only the first ``limit`` files (after dropping repeated paths).
        cache_dir: where parsed pieces are cached (default :func:`default_cache_dir`).
        workers: processes parsing uncached files (default ``min(2, cpu_count)``;
            1 parses in this process).
        progress: print a progress line to stderr while parsing.
        file_timeout: seconds a worker process may spend on one file; a file that takes
            longer (music21 can hang on a damaged score) is stopped and reported as an
            error (not cached: it is tried again next time). None: no limit. Files
            parsed in this process (``workers=1``) have no limit.

    Returns:
        A :class:`Corpus`, a piece per tune for files holding several (ABC tune
        books). A file listed twice (a chorale under two catalogue numbers) is
        read once, and a piece with exactly the same notes in every track as an
        earlier one is dropped.

    Raises:
        CorpusError: an unknown source, or not a single file could be read.
        ValueError: ``limit`` is not positive.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of files, not {limit!r}")
    files = corpus_files(source)[:limit]
    cache = os.fspath(cache_dir or default_cache_dir())
    results: dict[str, list[Piece] | FileReadError] = {}
    todo, fractions = [], {}
    for path in files:
        cached = _read_cached(path, cache, fractions) if os.path.isfile(path) else None
        if cached is None:
            todo.append(path)
        else:
            results[path] = cached
    if todo:
        label = os.path.basename(os.fspath(source)) if not isinstance(source, (list, tuple)) \
            else "files"
        report = _Progress(f"parsing {label}", len(todo)) if progress else None
        for path, result in _parse_all(todo, cache, workers, file_timeout):
            results[path] = (result if isinstance(result, FileReadError)
                             else _entry_pieces(result, fractions))
            if report:
                report.step()
    pieces, errors, seen = [], [], {}
    for path in files:
        result = results[path]
        if isinstance(result, FileReadError):
            errors.append(result)
            warnings.warn(f"kerasmusic: skipped {result}", SkippedFileWarning, stacklevel=2)
            continue
        for i, piece in enumerate(result):
            # The cache is keyed by content: name the piece after the file it came from.
            piece.name = path if len(result) == 1 else f"{path}#{i}"
            fingerprint = _notes_key(piece)
            if fingerprint in seen:
                _keep_the_clean_copy(pieces, seen[fingerprint], piece)
                continue
            seen[fingerprint] = len(pieces)
            pieces.append(piece)
    if not pieces:
        shown = "; ".join(str(e) for e in errors[:3])
        where = "the list" if isinstance(source, (list, tuple)) else os.fspath(source)
        raise CorpusError(f"no file of {where} could be read: {shown}")
    return Corpus(pieces, errors)


def _keep_the_clean_copy(pieces: list[Piece], index: int, duplicate: Piece) -> None:
    """Of two pieces with the same notes, keep the one read without repairs.

    A damaged copy of a file can read as the same notes after repairs (a note of zero
    length dropped); it must not shadow the good file because it came first. Either
    way the pair is reported when one of them needed repairs.
    """
    kept = pieces[index]
    if not (kept.repairs or duplicate.repairs):
        return  # a plain duplicate (a chorale under two names): dropped silently
    if kept.repairs and not duplicate.repairs:
        pieces[index], kept, duplicate = duplicate, duplicate, kept
    why = (f" but was read with repairs ({'; '.join(duplicate.repairs)})"
           if duplicate.repairs else "")
    warnings.warn(f"kerasmusic: {duplicate.name} has the same notes as {kept.name}{why}: "
                  f"kept {kept.name}", SkippedFileWarning, stacklevel=3)


class _Progress:
    """A one-line counter on stderr: redrawn in place on a terminal, every 10 % otherwise."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.tty = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        last = self.done == self.total
        if self.tty:
            print(f"\r{self.label}: {self.done}/{self.total} files", end="\n" if last else "",
                  file=sys.stderr, flush=True)
        elif last or self.done % max(1, self.total // 10) == 0:
            print(f"{self.label}: {self.done}/{self.total} files", file=sys.stderr, flush=True)


def _parse_all(paths: list[str], cache: str, workers: int | None,
               file_timeout: float | None):
    """Yield (path, cache entry or error) for each path, in worker processes when worth it.

    Worker processes are used for 4 files or more, and for any score file while there is
    a time limit (music21 can hang on a damaged score; a process can be stopped, a call
    in this one cannot); ``workers=1`` parses in this process, without a limit.
    """
    n = min(workers or min(2, os.cpu_count() or 1), len(paths))
    scores = file_timeout is not None and any(
        Path(p).suffix.lower() in SCORE_SUFFIXES for p in paths)
    if workers == 1 or (len(paths) < 4 and not scores):
        for path in paths:
            yield path, _parse_and_cache(path, cache)
        return
    yield from parse_in_workers(paths, cache, max(1, n), file_timeout)
