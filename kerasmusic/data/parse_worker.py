"""Worker process of :func:`kerasmusic.load_corpus`: parses files, answers in JSON lines.

Started by ``load_corpus`` with the cache folder as its argument; reads one file path
per line on stdin and writes one JSON line per file on stdout:
``{"path": ..., "meta": {"pieces": [...]}, "notes": ...}`` (the file's cache entry: the
pieces' metadata, and their (n, 4) int64 note rows as base64 of the little-endian bytes;
plain data, never pickle) or ``{"path": ..., "error": [class name, reason]}``, after a
first line ``"ready"`` once its imports are done.
A separate interpreter (rather than ``multiprocessing``) means a user's script is
never re-imported in the workers, so scripts without an ``if __name__ ==
"__main__"`` guard work.
"""

from __future__ import annotations

import base64
import json
import sys


def main() -> None:
    """Serve parse requests until stdin closes."""
    from kerasmusic.data.corpus import _parse_and_cache
    from kerasmusic.data.parse_pool import READY

    limit_memory()
    cache = sys.argv[1]
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever a library prints must not mix with the answers
    out.write(json.dumps(READY) + "\n")  # the parent's per-file clock starts now
    out.flush()
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        out.write(json.dumps(answer(path, _parse_and_cache(path, cache))) + "\n")
        out.flush()


def answer(path: str, result) -> dict:
    """The JSON-ready answer for ``path``: its cache entry (metadata, (n, 4) int64 note
    rows) or its FileReadError."""
    if isinstance(result, tuple):
        meta, notes = result
        return {"path": path, "meta": meta, "notes": base64.b64encode(
            notes.astype("<i8", copy=False).tobytes()).decode("ascii")}
    return {"path": path, "error": [type(result).__name__, result.reason]}


def limit_memory(share: float = 0.5, most: int = 8 << 30) -> None:
    """Cap this process's memory at ``share`` of the machine's (at most ``most`` bytes).

    A damaged score can make music21 allocate without end (one fuzzed ABC file asked for
    more than 21 GB): capped, that is a ``MemoryError`` reported for the file, not the
    kernel's out-of-memory killer choosing a process. Where the platform has no such
    limit, nothing changes.
    """
    try:
        import os
        import resource

        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        cap = max(1 << 30, min(int(total * share), most))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError, AttributeError):
        pass


if __name__ == "__main__":
    main()
