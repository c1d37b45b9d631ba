"""Loading the bundled chorales: first load (parsing) vs second load (the JSON cache).

Both loads run in this one process against a fresh, temporary cache folder; the
ratio is what to read.

    python benchmarks/corpus_cache.py              # all ~350 chorales, 2 worker processes
    python benchmarks/corpus_cache.py --limit 50 --workers 1
"""

from __future__ import annotations

import argparse
import tempfile
import time

import kerasmusic as km


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="chorales")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            corpus = km.load_corpus(args.source, limit=args.limit, cache_dir=cache,
                                    workers=args.workers, progress=False)
            times.append(time.perf_counter() - t0)
    print(f"{args.source}: {len(corpus)} pieces, {len(corpus.errors)} unreadable")
    print(f"first load (parse + write cache): {times[0]:7.2f} s")
    print(f"second load (cache):              {times[1]:7.2f} s")
    print(f"second / first:                   {times[1] / times[0]:7.3f}")


if __name__ == "__main__":
    main()
