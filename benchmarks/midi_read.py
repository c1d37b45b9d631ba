"""MIDI reading speed: read_midi vs miditoolkit.MidiFile alone vs symusic.Score alone.

Writes a seeded corpus of multi-track MIDI files with miditoolkit into a temporary
folder (2 to 8 instruments, drums in some, chords, tempo changes; every
``--big-every``-th file has 10,000-20,000 notes), then reads all of it with each
reader in turn, in one run, and prints files/s, notes/s and the ratios. The cost of
read_midi is split into symusic's parsing and the rest (splitting the file into
track chunks, checks, the note arrays in Note's order; no Note object is made), and
it says how many files read_midi handed to the miditoolkit reader (see
kerasmusic.data.midi). Times are CPU seconds of this process (every reader runs in
it), which other jobs on a shared machine disturb less than wall-clock time.

    python benchmarks/midi_read.py                  # 2,000 files
    python benchmarks/midi_read.py --files 300 --big-every 50
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import miditoolkit
import symusic
from miditoolkit.midi.containers import Instrument, TempoChange, TimeSignature
from miditoolkit.midi.containers import Note as MidiNote

import kerasmusic as km
from kerasmusic.data import midi, midi_layout


def write_corpus(folder: Path, files: int, big_every: int, seed: int) -> int:
    """Write ``files`` MIDI files into ``folder``; the number of notes written."""
    rng = random.Random(seed)
    total = 0
    for i in range(files):
        tpq = rng.choice((96, 384, 480, 960))
        mid = miditoolkit.MidiFile(ticks_per_beat=tpq)
        mid.tempo_changes = [TempoChange(rng.uniform(60, 180), 0)]
        mid.tempo_changes += [TempoChange(rng.uniform(60, 180), tpq * 4 * bar)
                              for bar in sorted(rng.sample(range(1, 64), rng.randint(0, 3)))]
        mid.time_signature_changes = [TimeSignature(rng.choice((3, 4, 6)), 4, 0)]
        n_tracks = rng.randint(2, 8)
        notes = (rng.randint(10_000, 20_000) if big_every and i % big_every == 0
                 else rng.randint(50, 1_500))
        for t in range(n_tracks):
            drum = t == n_tracks - 1 and rng.random() < 0.3
            inst = Instrument(program=0 if drum else rng.randrange(128), is_drum=drum,
                              name=f"part {t}")
            tick, low = 0, rng.randrange(30, 70)
            for _ in range(notes // n_tracks):
                if rng.random() < 0.7:  # else a chord note with the one before
                    tick += rng.choice((1, 2, 2, 4, 4, 8)) * tpq // 4
                length = rng.choice((1, 2, 4, 6, 8)) * tpq // 4
                inst.notes.append(MidiNote(rng.randint(30, 120), low + rng.randrange(24),
                                           tick, tick + length))
            total += len(inst.notes)
            mid.instruments.append(inst)
        mid.dump(str(folder / f"{i:05d}.mid"))
    return total


def timed(read, paths: list[Path]) -> float:
    """CPU seconds ``read`` takes over ``paths``."""
    started = time.process_time()
    for path in paths:
        read(path)
    return time.process_time() - started


def symusic_share(paths: list[Path]) -> float:
    """Seconds read_midi spends in symusic's parsing (of its closed chunks) over ``paths``."""
    jobs = []
    for path in paths:
        layout = midi_layout.split_chunks(path.read_bytes())
        if layout is not None:  # else read_midi hands the file to miditoolkit at once
            found = [midi_layout.statuses(c) for c in layout.chunks]
            jobs += [midi_layout.closed_chunk(c, layout.division, f)
                     for c, f in zip(layout.chunks, found)
                     if not midi_layout.starts_no_note(f)]  # (those are walked)
    started = time.process_time()
    for job in jobs:
        symusic.core.ScoreTick.from_midi(job)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--big-every", type=int, default=40,
                        help="every n-th file has 10,000-20,000 notes (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        notes = write_corpus(Path(folder), args.files, args.big_every, args.seed)
        paths = sorted(Path(folder).glob("*.mid"))
        print(f"{len(paths)} files, {notes:,} notes, "
              f"{sum(p.stat().st_size for p in paths) / 2**20:.1f} MiB written in "
              f"{time.perf_counter() - started:.0f} s")
        slow = []
        reference = midi.read_midi_miditoolkit
        midi.read_midi_miditoolkit = lambda path, **kw: (slow.append(path),
                                                         reference(path, **kw))[1]
        try:
            seconds = {
                "miditoolkit.MidiFile": timed(lambda p: miditoolkit.MidiFile(str(p)), paths),
                "symusic.Score": timed(lambda p: symusic.Score(str(p), ttype="tick"), paths),
                "read_midi": timed(lambda p: km.read_midi(p, require_pitched=False), paths),
            }
        finally:
            midi.read_midi_miditoolkit = reference
        parsing = symusic_share(paths)
    base = seconds["miditoolkit.MidiFile"]
    print(f"{'reader':22} {'seconds':>8} {'files/s':>9} {'notes/s':>11} {'vs miditoolkit':>15}")
    for name, s in seconds.items():
        print(f"{name:22} {s:8.2f} {len(paths) / s:9.1f} {notes / s:11,.0f} {base / s:14.1f}x")
    print(f"read_midi: {parsing:.2f} s in symusic's parsing of the chunks, "
          f"{seconds['read_midi'] - parsing:.2f} s in the rest (chunks, checks, arrays); "
          f"{len(slow)} of {len(paths)} files read by the miditoolkit reader")


if __name__ == "__main__":
    main()
