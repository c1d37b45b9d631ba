"""Loading the bundled chorales: first load (parsing) vs second load (the cache).

Both loads run in this one process against a fresh, temporary cache folder; the
ratio is what to read. The cached load is timed best of ``--repeat`` (wall and CPU
seconds), alone (the tracks hold arrays; Note objects are made when ``track.notes`` is
first read) and with every track's Note objects made; for comparison the same pieces
are also rebuilt the way the JSON cache did before the .npz one (``json.loads`` of
each piece's ``to_dict`` text, then ``Piece.from_dict``; the text already in memory,
so no file reads are counted there).

    python benchmarks/corpus_cache.py              # all ~350 chorales, 2 worker processes
    python benchmarks/corpus_cache.py --limit 50 --workers 1
    python benchmarks/corpus_cache.py --cache-dir ~/.cache/kerasmusic  # a cache kept

With ``--cache-dir`` the folder is kept, so the "first load" is a parse only for the
files not cached there yet.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import kerasmusic as km


def best(run, repeat: int) -> tuple[float, float, object]:
    """Best wall and CPU seconds of ``repeat`` calls of ``run``, and its last result."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="chorales")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", default=None, help="a cache folder to use and keep")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        cache = args.cache_dir or temporary

        def load():
            return km.load_corpus(args.source, limit=args.limit, cache_dir=cache,
                                  workers=args.workers, progress=False)

        def load_notes():
            pieces = load()
            return [t.notes for p in pieces for t in p.tracks]

        first, _, corpus = best(load, 1)
        wall, cpu, again = best(load, args.repeat)
        notes_wall, notes_cpu, _ = best(load_notes, args.repeat)
    assert [p.to_dict() for p in again] == [p.to_dict() for p in corpus]
    texts = [json.dumps(p.to_dict()) for p in corpus]
    json_wall, json_cpu, _ = best(lambda: [km.Piece.from_dict(json.loads(t)) for t in texts],
                                  args.repeat)
    print(f"{args.source}: {len(corpus)} pieces, {len(corpus.errors)} unreadable")
    print(f"first load (parse what is not cached): {first:7.2f} s")
    print(f"second load (cache), best of {args.repeat}:  {wall:7.3f} s ({cpu:.3f} s CPU)")
    print(f"second / first:                   {wall / first:7.3f}")
    print(f"second load, then every track's Note objects made: {notes_wall:.3f} s "
          f"({notes_cpu:.3f} s CPU)")
    print(f"the JSON cache's way (loads + from_dict, no file reads): {json_wall:.3f} s "
          f"({json_cpu:.3f} s CPU): the cached load takes {cpu / json_cpu:.2f} of its CPU")


if __name__ == "__main__":
    main()
