"""Preprocessing a MIDI folder into TFRecord shards, and whether the shard pipeline keeps up.

(a) MIDI files per second through :func:`write_pianoroll_shards` (read in worker
processes, encode, write shards), the new path (read_midi through symusic, note
arrays, the array piano roll, packed from booleans) vs the old one in the same run
(miditoolkit's reader, a Note with Fraction times per note, the piano roll built note
by note: benchmarks/old_shard_reader.py), and vs ``music21.converter.parse`` (on the
first ``--music21-files`` only: it is slow). Wall-clock seconds, so a machine shared
with other jobs slows both paths. Then the shard writer's peak memory: the Python heap
(numpy arrays included, measured with tracemalloc in a third, new-path run) of the
process writing the shards, which holds at most a reorder window of files' packed
phrases at a time.
(a2) Files per second of reading and encoding the same files in this process (CPU
seconds), new vs old path (what a worker does, without the shard writing).
(b) Examples per second that :func:`pianoroll_shard_dataset` delivers vs examples per
second one compiled MuseGAN training step consumes at the seed shapes (2 bars x 16
steps x 84 pitches x 4 tracks; one step = 5 critic steps, each on a new real batch,
+ 1 generator step). Everything is measured in this one run; read the ratios.

Without ``--midi-dir`` it writes ``--files`` random 4-track MIDI files to a temp folder
(16 bars, ~250 notes; every ``--big-every``-th 800 bars, ~11,500 notes).

    python benchmarks/shard_preprocessing.py                    # 2,000 generated files
    python benchmarks/shard_preprocessing.py --files 200 --skip-training
    python benchmarks/shard_preprocessing.py --midi-dir ~/lmd --workers 8 --music21-files 5
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasmusic.data import shards  # noqa: E402
from kerasmusic.data.midi import write_midi  # noqa: E402
from kerasmusic.data.notes import Note, Piece, Track  # noqa: E402
from kerasmusic.data.pianoroll import MultiTrackPianoRoll  # noqa: E402
from kerasmusic.data.shards import pianoroll_shard_dataset, write_pianoroll_shards  # noqa: E402
from kerasmusic.training.musegan import MuseGAN, MuseGANConfig  # noqa: E402

# The old path's reader, importable by the worker processes (they see PYTHONPATH).
_HERE = str(Path(__file__).resolve().parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_HERE] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
sys.path.insert(0, _HERE)
OLD_READER = "old_shard_reader:read_midi_old"
TODAY = 17.0  # files/s of `kerasmusic shard` measured in issue 14 (the old path, 2 cores)


def random_piece(rng: np.random.Generator, bars: int = 16) -> Piece:
    """Four tracks of random sixteenth-grid notes over ``bars`` 4/4 bars."""
    tracks = []
    for k, (low, program) in enumerate([(60, 0), (48, 24), (28, 33), (48, 48)]):
        notes, time_ = [], Fraction(0)
        while time_ < 4 * bars:
            duration = Fraction(int(rng.choice([1, 2, 4, 8])), 4)
            if rng.random() < 0.85:
                notes.append(Note(time_, duration, int(low + rng.integers(0, 24)), 80))
            time_ += duration
        tracks.append(Track(notes, name=f"track {k}", program=program))
    return Piece(tracks, tempo=120.0)


def write_corpus(folder: str, files: int, big_every: int) -> int:
    """Write ``files`` random pieces into ``folder``; the number of notes written."""
    rng = np.random.default_rng(0)
    notes = 0
    for i in range(files):
        piece = random_piece(rng, 800 if big_every and i % big_every == big_every - 1 else 16)
        notes += sum(len(t.notes) for t in piece.tracks)
        write_midi(piece, os.path.join(folder, f"{i:05d}.mid"))
    return notes


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its waited-for children (the workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


@dataclasses.dataclass
class ShardRun:
    """One write_pianoroll_shards run: files/s (wall clock), files per CPU second (this
    process and the workers together: what other jobs on the machine disturb least),
    seconds, the report, the peak traced bytes (or None)."""

    files_per_s: float
    files_per_cpu_s: float
    seconds: float
    report: shards.ShardReport
    peak: int | None


def shard_run(midi_dir: str, out: str, encoding: MultiTrackPianoRoll, reader: str, args,
              trace: bool = False) -> ShardRun:
    """One write_pianoroll_shards run whose workers read with ``reader``."""
    saved, shards.SHARD_READER = shards.SHARD_READER, reader
    try:
        if trace:
            tracemalloc.start()
        cpu, started = _cpu_seconds(), time.perf_counter()
        report = write_pianoroll_shards(midi_dir, out, encoding,
                                        examples_per_shard=args.examples_per_shard,
                                        workers=args.workers, progress=False)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else None
    finally:
        if trace:
            tracemalloc.stop()
        shards.SHARD_READER = saved
    files = report.files_read + len(report.errors)
    return ShardRun(files / seconds, files / cpu, seconds, report, peak)


def music21_files_per_second(files: list[str]) -> float:
    import music21

    started = time.perf_counter()
    for path in files:
        music21.converter.parse(path)
    return len(files) / (time.perf_counter() - started)


def encode_files_per_second(files: list[str], encoding: MultiTrackPianoRoll,
                            reader: str) -> float:
    """Files/s (CPU time) of what a shard worker does with a file (read, encode, pack) in
    this process, reading with ``reader``."""
    saved, shards.SHARD_READER = shards.SHARD_READER, reader
    try:
        started = time.process_time()
        for path in files:
            shards._encode_file(path, encoding)
        return len(files) / (time.process_time() - started)
    finally:
        shards.SHARD_READER = saved


def pipeline_examples_per_second(out_dir: str, batch: int, min_batches: int) -> float:
    dataset = pianoroll_shard_dataset(out_dir, batch, seed=0).repeat()
    iterator = iter(dataset)
    next(iterator)  # warm-up: graph building and the first shuffle-buffer fill
    started = time.perf_counter()
    for _ in range(min_batches):
        next(iterator)
    return min_batches * batch / (time.perf_counter() - started)


def training_examples_per_second(batch: int, n_steps: int) -> tuple[float, str]:
    config = MuseGANConfig()
    shape = (config.n_bars, config.n_steps_per_bar, config.n_pitches, config.n_tracks)
    real = np.where(np.random.default_rng(0).random((batch, *shape)) > 0.97, 1.0,
                    -1.0).astype("float32")
    gan = MuseGAN(config, seed=0)
    iterator = iter(gan.distribute(tf.data.Dataset.from_tensors(real).repeat()))

    def one_step() -> None:
        for _ in range(config.critic_steps):
            critic_batch, noise = next(iterator)
            gan.critic_step(critic_batch)
        gan.generator_step(noise)

    one_step()  # warm-up: tracing is not counted
    started = time.perf_counter()
    for _ in range(n_steps):
        one_step()
    steps_per_s = n_steps / (time.perf_counter() - started)
    note = f"{steps_per_s:.3f} steps/s x {config.critic_steps} critic batches of {batch}"
    return steps_per_s * config.critic_steps * batch, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi-dir", default=None, help="a folder of MIDI files to use")
    parser.add_argument("--files", type=int, default=2000, help="files to generate")
    parser.add_argument("--big-every", type=int, default=40,
                        help="every n-th generated file has ~11,500 notes (0: none)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--music21-files", type=int, default=5)
    parser.add_argument("--examples-per-shard", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed MuseGAN steps")
    parser.add_argument("--pipeline-batches", type=int, default=300)
    parser.add_argument("--skip-training", action="store_true",
                        help="leave out (b), the pipeline vs MuseGAN training")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        midi_dir = args.midi_dir
        if midi_dir is None:
            midi_dir = os.path.join(tmp, "midi")
            os.makedirs(midi_dir)
            started = time.perf_counter()
            notes = write_corpus(midi_dir, args.files, args.big_every)
            print(f"{args.files} generated 4-track files, {notes:,} notes, written in "
                  f"{time.perf_counter() - started:.0f} s")
        files = sorted(str(p) for p in Path(midi_dir).rglob("*")
                       if p.suffix.lower() in (".mid", ".midi"))
        encoding = MultiTrackPianoRoll()  # the seed's: 4 tracks, 2 x 16 steps, 84 pitches
        out = os.path.join(tmp, "shards")
        new = shard_run(midi_dir, out, encoding, shards.SHARD_READER, args)
        old = shard_run(midi_dir, os.path.join(tmp, "old"), encoding, OLD_READER, args)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = shard_run(midi_dir, os.path.join(tmp, "traced"), encoding, shards.SHARD_READER,
                         args, trace=True).peak
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = new.report
        size = sum(os.path.getsize(p) for p in report.shards)
        subset = files[:args.music21_files]
        m21_per_s = music21_files_per_second(subset) if subset else float("nan")
        same = old.report.examples_per_shard == report.examples_per_shard
        print(f"(a) {len(files)} MIDI files -> {report.n_examples} phrases in "
              f"{len(report.shards)} shards ({size / 2**20:.1f} MiB), {len(report.errors)} "
              f"unreadable, workers {args.workers or os.cpu_count()}; old and new paths "
              f"wrote {'the same' if same else 'DIFFERENT'} phrase counts")
        print(f"    {'shard preprocessing':29} {'files/s':>9} {'seconds':>8} {'files/CPU-s':>12}")
        for name, run in (("new path", new), ("old path", old)):
            print(f"    {name:29} {run.files_per_s:9.1f} {run.seconds:8.1f} "
                  f"{run.files_per_cpu_s:12.1f}")
        print(f"    {'new / old':29} {new.files_per_s / old.files_per_s:8.1f}x "
              f"{'':8} {new.files_per_cpu_s / old.files_per_cpu_s:11.1f}x   (new / the "
              f"issue's {TODAY:g} files/s today: {new.files_per_s / TODAY:.1f}x)")
        print(f"    music21.converter.parse ({len(subset)} files): {m21_per_s:8.2f} files/s")
        print(f"    shard writer's peak memory (new path, Python heap incl. numpy): "
              f"{peak / 2**20:.1f} MiB; its peak RSS {rss_after / 1024:.0f} MiB "
              f"(before that run {rss_before / 1024:.0f} MiB: TensorFlow and the rest)")
        new1 = encode_files_per_second(files, encoding, shards.SHARD_READER)
        old1 = encode_files_per_second(files, encoding, OLD_READER)
        print(f"(a2) read + encode + pack in one process (CPU time): new {new1:.1f} files/s, "
              f"old {old1:.1f} files/s ({new1 / old1:.1f}x)")
        if args.skip_training:
            return
        pipeline = pipeline_examples_per_second(out, args.batch, args.pipeline_batches)
    training, note = training_examples_per_second(args.batch, args.steps)
    print(f"(b) shard pipeline (batch {args.batch}):              {pipeline:10.0f} examples/s")
    print(f"    MuseGAN training consumes ({note}): {training:.0f} examples/s "
          f"[{tf.config.list_logical_devices()[-1].name}]")
    print(f"    pipeline / training:                        {pipeline / training:8.1f}x -> "
          + ("the pipeline is NOT the bottleneck" if pipeline > training
             else "the pipeline IS the bottleneck"))


if __name__ == "__main__":
    main()
