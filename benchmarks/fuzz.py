"""Fuzzing the readers: thousands of mutated MIDI, MusicXML, .mxl, kern and ABC files.

Each kind's seed (a small file of music21's corpus; MIDI written from a chorale) is
mutated (bytes flipped, inserted, deleted, repeated, numbers changed, the file cut)
and the mutants are loaded as one corpus in worker processes, with the per-file time
limit. Printed per kind: how many loaded (ok), were refused with a library error,
failed otherwise (a reader bug or a dead parser: "other") or were stopped by the time
limit ("hung"), and the other / hung files with their reasons. With
``--compare-readers``, every MIDI mutant is also read in this process by read_midi
(symusic) and by the miditoolkit reader it replaced, and the outcomes compared (the
same piece and repairs, or the same error class and reason).

    python benchmarks/fuzz.py                      # 2,000 of each kind
    python benchmarks/fuzz.py --per-kind 200 --kinds abc krn --timeout 30
    python benchmarks/fuzz.py --kinds mid --per-kind 10000 --timeout 20 --compare-readers
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import KINDS, load_outcomes, read_outcome, write_mutants  # noqa: E402

OUTCOMES = ("ok", "library error", "other", "hung")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=2000)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a worker may spend on one file")
    parser.add_argument("--workers", type=int, default=2,
                        help="parse processes, at least 2 (load_corpus(workers=1) parses in "
                             "this process, without the time and memory limits under test: "
                             "a fuzzed score then took this process to 22 GB)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-readers", action="store_true",
                        help="compare read_midi with the miditoolkit reader on the MIDI mutants")
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2")
    total = Counter()
    print(f"{'kind':5} {'files':>6} " + " ".join(f"{o:>13}" for o in OUTCOMES) + "  seconds")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds:
            started = time.perf_counter()
            paths = write_mutants(Path(folder) / kind, args.per_kind, seed=args.seed,
                                  kinds=(kind,))
            counts, unusual = load_outcomes(paths, Path(folder) / "cache",
                                            workers=args.workers, file_timeout=args.timeout)
            total.update(counts)
            print(f"{kind:5} {len(paths):6} " + " ".join(f"{counts[o]:13}" for o in OUTCOMES)
                  + f"  {time.perf_counter() - started:7.1f}", flush=True)
            for path, reason in sorted(unusual.items()):
                print(f"      {Path(path).name}: {reason}", flush=True)
            if kind == "mid" and args.compare_readers:
                compare_readers(paths)
    print(f"{'all':5} {sum(total.values()):6} " + " ".join(f"{total[o]:13}" for o in OUTCOMES))


def compare_readers(paths: list[Path]) -> None:
    """Print how many of ``paths`` read_midi and the miditoolkit reader read alike."""
    import kerasmusic as km
    from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit

    differ = [p for p in paths
              if read_outcome(km.read_midi, p) != read_outcome(read_midi_miditoolkit, p)]
    print(f"      read_midi and the miditoolkit reader: {len(paths) - len(differ)} alike, "
          f"{len(differ)} differ {[p.name for p in differ[:10]]}", flush=True)


if __name__ == "__main__":
    main()
