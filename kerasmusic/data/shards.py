"""A MIDI corpus preprocessed once into sharded TFRecord files, read back with tf.data.

:func:`write_pianoroll_shards` parses a folder of MIDI files in worker processes,
encodes each file into MuseGAN piano-roll phrases and streams them into
``phrases-00000-of-000NN.tfrecord`` shards (one ``tf.train.Example`` per phrase, its
booleans bit-packed with ``np.packbits``), plus a ``manifest.json``. Files come back
in listing order (a small reorder window), so the shards do not depend on the number
of workers, and at most a window of files' phrases is in memory at any time.
:func:`pianoroll_shard_dataset` reads the shards back as shuffled batches of float32
rolls in {-1, 1}, sharded over the input pipelines of a ``tf.distribute`` strategy.

Crash safety: the old manifest is removed first, each shard is written under a
``.tmp`` name and renamed when all are complete, and the manifest (which alone says
what the shards are) is written last, atomically.

TensorFlow is imported inside the functions that need it: the worker processes
import this module, and without TensorFlow one starts in about a second.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kerasmusic import errors
from kerasmusic.data.json_config import write_json_atomic
from kerasmusic.data.limits import check_cells
from kerasmusic.data.midi import MIDI_SUFFIXES, read_midi
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.worker_process import worker_command
from kerasmusic.errors import FileReadError, KerasMusicError

if TYPE_CHECKING:
    import tensorflow as tf

MANIFEST_NAME = "manifest.json"
SHARD_FORMAT = "kerasmusic.pianoroll_shards"
SHARD_FORMAT_VERSION = 1
_SHARD_NAME = re.compile(r"phrases-\d{5}-of-\d{5}\.tfrecord")
_TEMP_NAME = re.compile(r"phrases-\d{5}\.tfrecord\.tmp")


class ShardError(KerasMusicError):
    """A shard folder is missing, incomplete or not written by kerasmusic."""


@dataclasses.dataclass
class ShardReport:
    """What :func:`write_pianoroll_shards` wrote.

    Attributes:
        out_dir: the shard folder.
        manifest: path of ``manifest.json``.
        shards: the shard files, in order.
        examples_per_shard: phrases in each shard.
        files_read: MIDI files read without error (with or without phrases).
        files_without_phrases: files read that gave no phrase (a selected track
            missing, or shorter than a phrase).
        errors: one :class:`FileReadError` per file that could not be read.
    """

    out_dir: str
    manifest: str
    shards: list[str]
    examples_per_shard: list[int]
    files_read: int
    files_without_phrases: int
    errors: list[FileReadError]

    @property
    def n_examples(self) -> int:
        """Phrases in all shards."""
        return sum(self.examples_per_shard)


# === Encoding one file (runs in the workers) ===

#: The reader of the shard workers ("module:function"); the preprocessing benchmark
#: points it at the miditoolkit reader to time the old path in the same run.
SHARD_READER = _READ_MIDI = "kerasmusic.data.midi:read_midi"


def _reader(name: str):
    module, function = name.split(":")
    return getattr(importlib.import_module(module), function)


def _encode_file(path: str, encoding: MultiTrackPianoRoll) -> np.ndarray | FileReadError:
    """The file's phrases, bit-packed (n, ceil(size / 8)) uint8, or its error (not raised)."""
    try:
        piece = read_midi(path) if SHARD_READER == _READ_MIDI else _reader(SHARD_READER)(path)
    except FileReadError as exc:
        return exc
    except Exception as exc:  # a reader bug must not cost the rest of the corpus
        return FileReadError(path, f"unexpected {type(exc).__name__} while reading: {exc}")
    if not encoding.has_tracks(piece):
        return np.zeros((0, -(-int(np.prod(encoding.shape)) // 8)), np.uint8)
    try:
        return _packed_phrases(encoding, piece)
    except Exception as exc:
        return FileReadError(path, f"cannot encode ({type(exc).__name__}: {exc})")


def _packed_phrases(encoding: MultiTrackPianoRoll, piece) -> np.ndarray:
    """``np.packbits(encoding.phrases(piece) > 0)`` row by row, (n, ceil(size / 8)) uint8,
    made from the boolean roll without the float32 phrases (4 bytes a cell, most of the
    encoding's time), every phrase window cut at once.

    Raises:
        KerasMusicError: as :meth:`MultiTrackPianoRoll.phrases`.
    """
    roll = encoding.to_roll(piece)
    size = int(np.prod(encoding.shape))
    length = encoding.n_bars * encoding.n_steps_per_bar
    hop = encoding.hop_bars * encoding.n_steps_per_bar
    check_cells(piece.name or "piece", (max(0, len(roll) - length) // hop + 1,
                                        *encoding.shape), "phrases")
    if len(roll) < length:
        return np.zeros((0, -(-size // 8)), np.uint8)
    starts = np.arange(0, len(roll) - length + 1, hop)
    windows = roll[starts[:, None] + np.arange(length)].reshape(len(starts), size)
    return np.packbits(windows[windows.any(axis=1)], axis=1)  # all-silent phrases left out


def _worker_main() -> None:
    """Worker loop: JSON requests {"i", "path"} on stdin; on stdout, one JSON line per
    file, ``{"i", "n"}`` followed by its n packed phrases as raw bytes (no text encoding
    of the bits: they are most of what goes through the pipe), or ``{"i", "error"}``.

    Arguments: the encoding's config (JSON) and the reader ("module:function")."""
    global SHARD_READER
    encoding = MultiTrackPianoRoll.from_config(json.loads(sys.argv[1]))
    SHARD_READER = sys.argv[2]
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever a library prints must not mix with the answers
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        result = _encode_file(request["path"], encoding)
        if isinstance(result, FileReadError):
            answer = {"i": request["i"], "error": [type(result).__name__, result.reason]}
            out.write(json.dumps(answer).encode("ascii") + b"\n")
        else:
            out.write(json.dumps({"i": request["i"], "n": len(result)}).encode("ascii") + b"\n")
            out.write(np.ascontiguousarray(result, np.uint8).data)
        out.flush()


class _Worker:
    """One worker process; a thread forwards its answers to the shared queue."""

    def __init__(self, wid: int, config_json: str, answers: queue.Queue, row_bytes: int):
        self.wid, self.row_bytes = wid, row_bytes
        self.outstanding: deque[tuple[int, str]] = deque()  # answered in this order
        self.proc = subprocess.Popen(
            worker_command("kerasmusic.data.shards:_worker_main", config_json, SHARD_READER),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=self._collect, args=(answers,), daemon=True).start()

    def _collect(self, answers: queue.Queue) -> None:
        stdout = self.proc.stdout
        for line in iter(stdout.readline, b""):
            try:
                answer = json.loads(line)
                answer["i"]
                size = int(answer.get("n", 0)) * self.row_bytes
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # not an answer: something a library printed in the worker
            if size:
                answer["bits"] = stdout.read(size)
                if len(answer["bits"]) < size:
                    break  # it died while answering
            answers.put((self.wid, answer))
        self.proc.wait()
        answers.put((self.wid, None))  # the worker has ended

    def send(self, index: int, path: str) -> bool:
        try:
            self.proc.stdin.write(json.dumps({"i": index, "path": path}).encode("ascii") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False  # it died; its end-of-output marker tells the loop
        self.outstanding.append((index, path))
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _decode_answer(answer: dict, path: str, row_bytes: int) -> np.ndarray | FileReadError:
    if "error" in answer:
        name, reason = answer["error"]
        cls = getattr(errors, name, FileReadError)
        if not (isinstance(cls, type) and issubclass(cls, FileReadError)):
            cls = FileReadError
        return cls(path, reason)
    bits = np.frombuffer(answer.get("bits", b""), np.uint8)
    return bits.reshape(int(answer["n"]), row_bytes)


_IN_FLIGHT = 32  # files handed out to a worker at a time


def _encode_all(paths: list[str], encoding: MultiTrackPianoRoll, workers: int,
                window: int = 64) -> Iterator[np.ndarray | FileReadError]:
    """Each file's packed phrases (or error), in the order of ``paths``.

    Each worker has up to ``_IN_FLIGHT`` files handed out (a file takes a worker about a
    millisecond: it must not wait for this process to hand out the next); a file more
    than ``window`` places ahead of the next one due is not handed out, so the reorder
    buffer stays small.
    """
    if workers <= 1 or len(paths) < 4:
        for path in paths:
            yield _encode_file(path, encoding)
        return
    row_bytes = -(-int(np.prod(encoding.shape)) // 8)
    config_json = json.dumps(encoding.get_config())
    answers: queue.Queue = queue.Queue()
    todo: deque[tuple[int, str]] = deque(enumerate(paths))
    done: dict[int, np.ndarray | FileReadError] = {}
    pool = {w: _Worker(w, config_json, answers, row_bytes) for w in range(workers)}
    next_due, started = 0, workers

    def refill() -> None:
        for worker in list(pool.values()):
            while (len(worker.outstanding) < _IN_FLIGHT and todo
                   and todo[0][0] < next_due + max(window, 2 * workers)):
                if not worker.send(*todo[0]):
                    break
                todo.popleft()

    try:
        refill()
        while next_due < len(paths):
            wid, answer = answers.get()
            worker = pool[wid]
            if answer is None:  # crashed: blame the file it was reading, retry the rest
                del pool[wid]
                if worker.outstanding:
                    index, path = worker.outstanding.popleft()
                    done[index] = FileReadError(
                        path, f"the parser process died (exit code {worker.proc.returncode}) "
                              "while reading it")
                todo.extendleft(reversed(worker.outstanding))
                if todo:
                    pool[started] = _Worker(started, config_json, answers, row_bytes)
                    started += 1
            else:
                index, path = worker.outstanding.popleft()
                done[index] = _decode_answer(answer, path, row_bytes)
            while next_due in done:
                yield done.pop(next_due)
                next_due += 1
            refill()
    finally:
        for worker in pool.values():  # also reached when the caller stops early
            worker.stop()


# === Writing ===

def _midi_files(source) -> list[str]:
    from kerasmusic.data.corpus import corpus_files

    files = [f for f in corpus_files(source) if Path(f).suffix.lower() in MIDI_SUFFIXES]
    if not files:
        where = "the list" if isinstance(source, (list, tuple)) else os.fspath(source)
        raise ShardError(f"{where}: no MIDI files ({', '.join(MIDI_SUFFIXES)})")
    return files


def _example(packed_row: bytes, shape: Sequence[int]) -> bytes:
    """The serialized ``tf.train.Example`` of one phrase: its packed row and the shape."""
    import tensorflow as tf

    return tf.train.Example(features=tf.train.Features(feature={
        "roll": tf.train.Feature(bytes_list=tf.train.BytesList(value=[packed_row])),
        "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=list(shape))),
    })).SerializeToString()


def _example_parts(shape: Sequence[int], row_bytes: int) -> tuple[bytes, bytes]:
    """(prefix, suffix) of :func:`_example` around the packed row: every phrase's record
    is ``prefix + row + suffix`` (its rows all have ``row_bytes``, so every length in the
    message is the same), without a protobuf message made per phrase."""
    marker = np.random.default_rng(0).bytes(row_bytes)  # bytes found nowhere else
    parts = _example(marker, shape).split(marker)
    if len(parts) != 2:
        raise AssertionError("the phrase's bytes are not found once in its record")
    return parts[0], parts[1]


def write_pianoroll_shards(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    encoding: MultiTrackPianoRoll,
    *,
    examples_per_shard: int = 20_000,
    workers: int | None = None,
    progress: bool = True,
) -> ShardReport:
    """Parse and encode every MIDI file of ``source`` into TFRecord shards in ``out_dir``.

    Args:
        source: a folder (searched recursively for .mid / .midi, sorted) or a list of files.
        out_dir: the shard folder (created). Shards and a manifest of an earlier run
            there are replaced.
        encoding: the piano-roll encoding; its config is stored in the manifest.
        examples_per_shard: phrases per shard (the last one holds the rest); 20,000
            seed-shaped phrases make ~28 MB.
        workers: parser processes (default ``os.cpu_count()``; 1 parses in this process).
        progress: print a progress line to stderr.

    Returns:
        A :class:`ShardReport`. Unreadable files are skipped, each reported with a
        :class:`~kerasmusic.data.corpus.SkippedFileWarning` and in the manifest.

    Raises:
        ShardError: no MIDI file in ``source``, or no file gave a phrase.
        ValueError: ``examples_per_shard`` is not positive.
    """
    import tensorflow as tf

    from kerasmusic.data.corpus import SkippedFileWarning, _Progress

    if examples_per_shard < 1:
        raise ValueError(f"examples_per_shard must be positive, not {examples_per_shard!r}")
    files = _midi_files(source)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # No manifest while the shards change: a crash leaves a folder that reads as
    # unfinished, never one whose manifest describes other shards.
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    for stale in out.iterdir():
        if _TEMP_NAME.fullmatch(stale.name):
            stale.unlink()
    prefix, suffix = _example_parts(encoding.shape, -(-int(np.prod(encoding.shape)) // 8))
    temps: list[Path] = []
    counts: list[int] = []
    writer = None
    read_errors: list[FileReadError] = []
    files_without_phrases = 0
    label = "files" if isinstance(source, (list, tuple)) else Path(source).name
    progress_line = _Progress(f"sharding {label}", len(files)) if progress else None
    results = _encode_all(files, encoding, min(workers or os.cpu_count() or 1, len(files)))
    try:
        for result in results:
            if progress_line:
                progress_line.step()
            if isinstance(result, FileReadError):
                read_errors.append(result)
                warnings.warn(f"kerasmusic: skipped {result}", SkippedFileWarning, stacklevel=2)
                continue
            if not len(result):
                files_without_phrases += 1
            for row in result:
                if writer is None:
                    temps.append(out / f"phrases-{len(temps):05d}.tfrecord.tmp")
                    counts.append(0)
                    writer = tf.io.TFRecordWriter(str(temps[-1]))
                writer.write(prefix + row.tobytes() + suffix)
                counts[-1] += 1
                if counts[-1] == examples_per_shard:
                    writer.close()
                    writer = None
        if writer is not None:
            writer.close()
            writer = None
    except BaseException:
        results.close()  # stops the workers now, not when garbage collected
        if writer is not None:
            writer.close()
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    if not temps:
        shown = "; ".join(str(e) for e in read_errors[:3])
        raise ShardError(f"none of {len(files)} MIDI files gave a phrase of shape "
                         f"{encoding.shape} ({len(read_errors)} unreadable"
                         f"{': ' + shown if shown else ''}; {files_without_phrases} lack a "
                         f"selected track {encoding.track_names} or are too short)")
    names = [f"phrases-{k:05d}-of-{len(temps):05d}.tfrecord" for k in range(len(temps))]
    for temp, name in zip(temps, names):
        os.replace(temp, out / name)
    for old in out.iterdir():  # shards of an earlier run with another shard count
        if _SHARD_NAME.fullmatch(old.name) and old.name not in names:
            old.unlink()
    manifest = {
        "format": SHARD_FORMAT, "version": SHARD_FORMAT_VERSION,
        "encoding": encoding.get_config(), "shape": list(encoding.shape),
        "shards": [{"file": n, "examples": c} for n, c in zip(names, counts)],
        "examples": sum(counts),
        "source": os.fspath(source) if not isinstance(source, (list, tuple)) else None,
        "files": len(files), "files_read": len(files) - len(read_errors),
        "files_without_phrases": files_without_phrases,
        "bad_files": [{"path": e.path, "error": type(e).__name__, "reason": e.reason}
                      for e in read_errors],
    }
    write_json_atomic(out / MANIFEST_NAME, manifest, indent=1)
    return ShardReport(str(out), str(out / MANIFEST_NAME), [str(out / n) for n in names],
                       counts, len(files) - len(read_errors), files_without_phrases,
                       read_errors)


# === Reading ===

def read_shard_manifest(out_dir_or_manifest: str | os.PathLike) -> dict:
    """The manifest of a shard folder, checked: our format, shards present.

    Raises:
        ShardError: no manifest, not one written by :func:`write_pianoroll_shards`, or a
            shard file is missing.
    """
    path = Path(out_dir_or_manifest)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ShardError(f"{path}: no shard manifest; write the shards with "
                         "write_pianoroll_shards (an interrupted run leaves none)")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as exc:
        raise ShardError(f"{path}: unreadable shard manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != SHARD_FORMAT:
        raise ShardError(f"{path}: not a kerasmusic shard manifest (no 'format': "
                         f"{SHARD_FORMAT!r})")
    if manifest.get("version") != SHARD_FORMAT_VERSION:
        raise ShardError(f"{path}: shard format version {manifest.get('version')!r}; this "
                         f"kerasmusic reads version {SHARD_FORMAT_VERSION}")
    if not manifest.get("shards"):
        raise ShardError(f"{path}: the manifest lists no shards")
    missing = [s["file"] for s in manifest["shards"] if not (path.parent / s["file"]).is_file()]
    if missing:
        raise ShardError(f"{path.parent}: shard files missing: {', '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''}")
    manifest["directory"] = str(path.parent)
    return manifest


def pianoroll_shard_dataset(
    out_dir_or_manifest: str | os.PathLike,
    batch_size: int,
    *,
    shuffle_buffer: int = 10_000,
    seed: int = 0,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Batches of float32 rolls (batch, bars, steps, pitches, tracks) in {-1, 1} from shards.

    Shard files are shuffled and read in parallel (``interleave``); records are
    shuffled (still bit-packed, so a 10,000 buffer of seed-shaped phrases takes
    ~14 MB) with ``seed``, again each epoch; full batches only; prefetched.

    Args:
        out_dir_or_manifest: a folder written by :func:`write_pianoroll_shards` or its
            ``manifest.json``.
        batch_size: the global batch. With ``input_context`` each pipeline gives
            ``input_context.get_per_replica_batch_size(batch_size)``.
        shuffle_buffer: records in the shuffle buffer (0 or 1: no record shuffling).
        seed: shuffle seed (files and records).
        input_context: from ``strategy.distribute_datasets_from_function``: this
            pipeline reads only its share of the shard files. Without it the dataset's
            auto-shard policy is FILE, so ``experimental_distribute_dataset`` under a
            multi-worker strategy gives each worker its own files.

    Raises:
        ShardError: see :func:`read_shard_manifest`; fewer shard files than input
            pipelines.
        ValueError: ``batch_size`` is not positive.
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size!r}")
    manifest = read_shard_manifest(out_dir_or_manifest)
    files = [os.path.join(manifest["directory"], s["file"]) for s in manifest["shards"]]
    shape = [int(d) for d in manifest["shape"]]
    size = int(np.prod(shape))
    row_bytes = -(-size // 8)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if input_context is not None:
        pipelines = input_context.num_input_pipelines
        if len(files) < pipelines:
            raise ShardError(f"{manifest['directory']}: {len(files)} shard files for "
                             f"{pipelines} input pipelines; write more shards (a smaller "
                             "examples_per_shard)")
        ds = ds.shard(pipelines, input_context.input_pipeline_id)
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    ds = ds.shuffle(len(files), seed=seed)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle_buffer > 1:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    shifts = tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)  # np.packbits: first bit = MSB

    def unpack(serialized):
        roll = tf.io.parse_example(serialized, {"roll": tf.io.FixedLenFeature([], tf.string)})
        packed = tf.io.decode_raw(roll["roll"], tf.uint8)
        packed = tf.ensure_shape(packed, [batch_size, row_bytes])
        bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(packed[..., None], shifts), 1)
        bits = tf.reshape(bits, [batch_size, row_bytes * 8])[:, :size]
        return tf.reshape(tf.cast(bits, tf.float32) * 2.0 - 1.0, [batch_size, *shape])

    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(unpack, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.FILE if input_context is None
        else tf.data.experimental.AutoShardPolicy.OFF)
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)
