"""How long the command line takes to answer ``--help``, against importing TensorFlow.

Each command runs in a fresh Python, ``--runs`` times; the medians and their ratio are
printed. ``kerasmusic --help`` imports no TensorFlow, so it should take a small
fraction of ``import tensorflow`` (which every ``kerasmusic`` call paid before).

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --runs 10
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "kerasmusic --help": [sys.executable, "-m", "kerasmusic", "--help"],
    "kerasmusic train lstm --help": [sys.executable, "-m", "kerasmusic", "train", "lstm",
                                     "--help"],
    "kerasmusic --version": [sys.executable, "-m", "kerasmusic", "--version"],
    "python -c 'import tensorflow'": [sys.executable, "-c", "import tensorflow"],
}


def _median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (median)")
    args = parser.parse_args()
    seconds = {name: _median_seconds(argv, args.runs) for name, argv in COMMANDS.items()}
    tensorflow = seconds["python -c 'import tensorflow'"]
    for name, value in seconds.items():
        print(f"{name:32s} {value:6.2f} s  ({value / tensorflow:5.3f} of importing TensorFlow)")


if __name__ == "__main__":
    main()
