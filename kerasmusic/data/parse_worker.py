"""Worker process of :func:`kerasmusic.load_corpus`: parses files, answers in JSON lines.

Started by ``load_corpus`` with the cache folder as its argument; reads one file path
per line on stdin and writes one JSON line per file on stdout:
``{"path": ..., "pieces": [{...}, ...]}`` or ``{"path": ..., "error": [class name, reason]}``,
after a first line ``"ready"`` once its imports are done.
A separate interpreter (rather than ``multiprocessing``) means a user's script is
never re-imported in the workers, so scripts without an ``if __name__ ==
"__main__"`` guard work.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    """Serve parse requests until stdin closes."""
    from kerasmusic.data.corpus import _parse_and_cache
    from kerasmusic.data.parse_pool import READY

    cache = sys.argv[1]
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever a library prints must not mix with the answers
    out.write(json.dumps(READY) + "\n")  # the parent's per-file clock starts now
    out.flush()
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        result = _parse_and_cache(path, cache)
        if isinstance(result, list):
            answer = {"path": path, "pieces": result}
        else:
            answer = {"path": path, "error": [type(result).__name__, result.reason]}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
