"""Mutated music files for the fuzz test (tests/test_fuzz.py) and benchmarks/fuzz.py.

Seeds are small files of every kind the readers take (MIDI written from a chorale,
MusicXML, compressed .mxl, kern and ABC from music21's bundled corpus); each mutant is
the seed with a few bytes flipped, inserted, deleted or repeated, a number changed
(text formats) or the file cut short. The same seed number gives the same files.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections import Counter
from pathlib import Path

KINDS = ("mid", "xml", "mxl", "krn", "abc")
# Small files of music21's corpus: each parses in a few hundredths of a second.
SCORE_SEEDS = {"xml": "demos/multiple-verses.xml", "mxl": "demos/chorale_with_parallels.mxl",
               "krn": "palestrina/Credo_67_c.krn",
               "abc": "ryansMammoth/PaddyMilesFricasseeReel.abc"}
_NUMBERS = (b"0", b"-1", b"7", b"128", b"99999999", b"1e308", b"4294967296", b"")


def seed_bytes(kind: str) -> bytes:
    """The seed file of ``kind`` (a suffix of :data:`KINDS`)."""
    import music21

    root = Path(music21.common.getCorpusFilePath())
    if kind == "mid":
        import tempfile

        import kerasmusic as km

        with tempfile.TemporaryDirectory() as folder:
            km.write_midi(km.read_file(root / "bach" / "bwv66.6.mxl"), Path(folder) / "s.mid")
            return (Path(folder) / "s.mid").read_bytes()
    return (root / SCORE_SEEDS[kind]).read_bytes()


def mutate(data: bytes, rng: random.Random, text: bool) -> bytes:
    """One to three random edits of ``data`` (number edits only for a text format)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        edits = ["flip", "insert", "delete", "repeat", "cut"] + ["number"] * (2 * text)
        edit = rng.choice(edits)
        at = rng.randrange(max(1, len(out)))
        if edit == "flip" and out:
            for _ in range(rng.randint(1, 4)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif edit == "insert":
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif edit == "delete":
            del out[at:at + rng.randint(1, 64)]
        elif edit == "repeat":
            out[at:at] = out[at:at + rng.randint(1, 256)] * rng.randint(1, 4)
        elif edit == "cut":
            del out[at:]
        elif edit == "number":
            runs = list(re.finditer(rb"\d+", bytes(out)))
            if runs:
                run = rng.choice(runs)
                out[run.start():run.end()] = rng.choice(_NUMBERS)
    return bytes(out)


def mutate_file(kind: str, data: bytes, rng: random.Random) -> bytes:
    """A mutant of a seed of ``kind``; a compressed .mxl has its score edited inside the
    archive most of the time (its bytes otherwise: mostly a broken archive)."""
    if kind != "mxl" or rng.random() < 0.25:
        return mutate(data, rng, text=kind in ("xml", "krn", "abc"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    score = next(n for n in entries if not n.startswith("META-INF"))
    entries[score] = mutate(entries[score], rng, text=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_mutants(folder: Path, per_kind: int, seed: int = 0,
                  kinds=KINDS) -> list[Path]:
    """``per_kind`` mutants of every kind's seed in ``folder``; their paths."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        data = seed_bytes(kind)
        for i in range(per_kind):
            path = folder / f"{kind}_{i:05d}.{kind}"
            path.write_bytes(mutate_file(kind, data, rng))
            paths.append(path)
    return paths


def outcome(reason: str | None) -> str:
    """"ok", "library error", "other" (a reader bug, a dead parser) or "hung" for a file
    that loaded (``reason`` None) or failed with ``reason``."""
    if reason is None:
        return "ok"
    if reason.startswith("parsing took longer"):
        return "hung"
    if reason.startswith(("unexpected ", "the parser process died")):
        return "other"
    return "library error"


def read_outcome(read, path: Path) -> tuple:
    """("ok", piece, repairs) or (error class name, reason) of ``read(path)``: two MIDI
    readers agree on a file when these are equal."""
    import kerasmusic as km

    try:
        piece = read(path)
    except km.KerasMusicError as exc:
        return type(exc).__name__, exc.reason
    return "ok", piece, piece.repairs


def load_outcomes(paths: list[Path], cache: Path, workers: int = 2,
                  file_timeout: float = 60.0) -> tuple[Counter, dict[str, str]]:
    """Load ``paths`` as one corpus: (a Counter of outcomes, {path: reason} of the
    files whose outcome is "other" or "hung")."""
    import warnings

    import kerasmusic as km

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            corpus = km.load_corpus(paths, cache_dir=cache, workers=workers, progress=False,
                                    file_timeout=file_timeout)
            errors = corpus.errors
        except km.CorpusError:  # no file loaded at all
            errors = None
    if errors is None:
        return Counter({"library error": len(paths)}), {}
    reasons = {e.path: e.reason for e in errors}
    counts = Counter(outcome(reasons.get(str(p))) for p in paths)
    bad = {path: reason for path, reason in reasons.items()
           if outcome(reason) in ("other", "hung")}
    return counts, bad
