"""Preprocessing a MIDI folder into TFRecord shards, and whether the shard pipeline keeps up.

(a) MIDI files per second through :func:`write_pianoroll_shards` (read with
read_midi in worker processes, encode, write shards) vs parsing the same files
with ``music21.converter.parse`` (on the first ``--music21-files`` only: it is slow).
(a2) Files per second of reading and encoding the same files in this process with
read_midi (symusic) vs the miditoolkit reader it replaced (what the workers do, without
the shard writing).
(b) Examples per second that :func:`pianoroll_shard_dataset` delivers vs examples per
second one compiled MuseGAN training step consumes at the seed shapes (2 bars x 16
steps x 84 pitches x 4 tracks; one step = 5 critic steps, each on a new real batch,
+ 1 generator step). Everything is measured in this one run; read the ratios.

Without ``--midi-dir`` it writes ``--files`` random 4-track MIDI files to a temp folder.

    python benchmarks/shard_preprocessing.py                    # 200 generated files
    python benchmarks/shard_preprocessing.py --midi-dir ~/lmd --workers 8 --music21-files 5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasmusic.data import shards  # noqa: E402
from kerasmusic.data.midi import read_midi, write_midi  # noqa: E402
from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit  # noqa: E402
from kerasmusic.data.notes import Note, Piece, Track  # noqa: E402
from kerasmusic.data.pianoroll import MultiTrackPianoRoll  # noqa: E402
from kerasmusic.data.shards import pianoroll_shard_dataset, write_pianoroll_shards  # noqa: E402
from kerasmusic.training.musegan import MuseGAN, MuseGANConfig  # noqa: E402


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


def music21_files_per_second(files: list[str]) -> float:
    import music21

    started = time.perf_counter()
    for path in files:
        music21.converter.parse(path)
    return len(files) / (time.perf_counter() - started)


def encode_files_per_second(files: list[str], encoding: MultiTrackPianoRoll, read) -> float:
    """Files/s of what a shard worker does with a file (read, encode, pack) in this
    process, reading with ``read``."""
    saved, shards.read_midi = shards.read_midi, read
    try:
        started = time.perf_counter()
        for path in files:
            shards._encode_file(path, encoding)
        return len(files) / (time.perf_counter() - started)
    finally:
        shards.read_midi = saved


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
    parser.add_argument("--files", type=int, default=200, help="files to generate")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--music21-files", type=int, default=10)
    parser.add_argument("--examples-per-shard", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed MuseGAN steps")
    parser.add_argument("--pipeline-batches", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        midi_dir = args.midi_dir
        if midi_dir is None:
            midi_dir = os.path.join(tmp, "midi")
            os.makedirs(midi_dir)
            rng = np.random.default_rng(0)
            for i in range(args.files):
                write_midi(random_piece(rng), os.path.join(midi_dir, f"{i:05d}.mid"))
        files = sorted(str(p) for p in Path(midi_dir).rglob("*")
                       if p.suffix.lower() in (".mid", ".midi"))
        encoding = MultiTrackPianoRoll()  # the seed's: 4 tracks, 2 x 16 steps, 84 pitches
        out = os.path.join(tmp, "shards")
        started = time.perf_counter()
        report = write_pianoroll_shards(midi_dir, out, encoding,
                                        examples_per_shard=args.examples_per_shard,
                                        workers=args.workers, progress=False)
        seconds = time.perf_counter() - started
        shards_per_s = len(files) / seconds
        size = sum(os.path.getsize(p) for p in report.shards)
        subset = files[:args.music21_files]
        m21_per_s = music21_files_per_second(subset)
        print(f"(a) {len(files)} MIDI files -> {report.n_examples} phrases in "
              f"{len(report.shards)} shards ({size / 2**20:.1f} MiB), {len(report.errors)} "
              f"unreadable, workers {args.workers or os.cpu_count()}")
        print(f"    shard preprocessing (read + encode + write): {shards_per_s:8.2f} files/s "
              f"({seconds:.1f} s)")
        print(f"    music21.converter.parse ({len(subset)} files):  {m21_per_s:8.2f} files/s")
        print(f"    preprocessing / music21:                    {shards_per_s / m21_per_s:8.1f}x")
        new = encode_files_per_second(files, encoding, read_midi)
        old = encode_files_per_second(files, encoding, read_midi_miditoolkit)
        print(f"(a2) read + encode in one process: read_midi {new:.1f} files/s, the miditoolkit "
              f"reader {old:.1f} files/s ({new / old:.1f}x)")

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
