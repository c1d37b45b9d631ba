"""Parsing files in worker processes for :func:`~kerasmusic.load_corpus`, each file
within a time limit.

music21 can take tens of seconds (or hang) on a damaged score. Each worker process
serves a share of the files; a file that takes longer than the limit, or that kills its
worker, is reported as that file's error and a fresh worker takes the rest of the share.
"""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from kerasmusic import errors
from kerasmusic.data.scores import SCORE_SUFFIXES
from kerasmusic.data.worker_process import worker_command
from kerasmusic.errors import FileReadError

#: The worker's entry point ("module:function"); tests point it at a parser that hangs.
PARSE_WORKER = "kerasmusic.data.parse_worker:main"
#: What a worker writes once it is ready: its start-up does not count against a file.
READY = "ready"
_POLL = 0.2  # seconds between looks at the clock while a worker parses


def file_error(path: str, name: str, reason: str) -> FileReadError:
    """The error class ``name`` of :mod:`kerasmusic.errors` (a FileReadError) for ``path``."""
    cls = getattr(errors, str(name), FileReadError)
    if not (isinstance(cls, type) and issubclass(cls, FileReadError)):
        cls = FileReadError
    return cls(path, str(reason))


def _reader_error(path: str, reason: str) -> FileReadError:
    """A ScoreReadError for a score file, a MidiReadError for a MIDI file."""
    is_score = Path(path).suffix.lower() in SCORE_SUFFIXES
    return (errors.ScoreReadError if is_score else errors.MidiReadError)(path, reason)


#: (path, the file's cache entry: metadata and (n, 4) int64 note rows, or its error)
Answer = tuple[str, tuple[dict, np.ndarray] | FileReadError]


def parse_in_workers(paths: list[str], cache: str, workers: int,
                     file_timeout: float | None) -> Iterator[Answer]:
    """Yield (path, cache entry or error) for every path, parsed by ``workers`` processes.

    Args:
        paths: the files.
        cache: the parse cache folder (the workers write it).
        workers: processes, each serving every ``workers``-th file.
        file_timeout: seconds a worker may spend on one file (None: no limit).
    """
    answers: queue.Queue = queue.Queue()
    stop = threading.Event()
    threads = [threading.Thread(target=_serve, args=(paths[w::workers], cache, answers,
                                                     file_timeout, stop), daemon=True)
               for w in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for _ in paths:
            yield answers.get()
    finally:  # also reached when the caller stops early
        stop.set()
        for thread in threads:
            thread.join()


def _serve(share: list[str], cache: str, answers: queue.Queue, limit: float | None,
           stop: threading.Event) -> None:
    """Parse ``share`` in a worker process, a fresh one after a file that hung or crashed."""
    pending = list(share)
    try:
        while pending and not stop.is_set():
            worker = _Worker(pending, cache)
            try:
                failed = worker.serve(pending, answers, limit, stop)
            finally:
                worker.close()
            if failed is not None:
                path = pending.pop(0)
                answers.put((path, failed(path)))
    except Exception as exc:  # no worker can start (e.g. out of processes): say so per file
        for path in pending:
            answers.put((path, FileReadError(path, f"no parser process could read it "
                                                   f"({type(exc).__name__}: {exc})")))


class _Worker:
    """One parse worker process, its feeding and reading threads."""

    def __init__(self, paths: list[str], cache: str):
        self.proc = subprocess.Popen(worker_command(PARSE_WORKER, cache), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: queue.Queue = queue.Queue()
        self.threads = [threading.Thread(target=self._feed, args=(list(paths),), daemon=True),
                        threading.Thread(target=self._read, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _feed(self, paths: list[str]) -> None:
        try:
            for path in paths:
                self.proc.stdin.write(path + "\n")
        except (BrokenPipeError, OSError):
            pass  # the worker died: serve() reports it
        finally:
            _close(self.proc.stdin)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def serve(self, pending: list[str], answers: queue.Queue, limit: float | None,
              stop: threading.Event):
        """Pass on answers, removing their paths from ``pending``, until it is empty.

        Returns None when done (or stopped), else a function making the error of the
        file the worker is on (``pending[0]``): it took longer than ``limit`` or the
        worker died.
        """
        deadline = None  # none until the worker is ready: its start-up is not a file's
        while pending and not stop.is_set():
            try:
                line = self.lines.get(timeout=_POLL)
            except queue.Empty:
                if deadline is not None and time.monotonic() > deadline:
                    return lambda path: _reader_error(
                        path, f"parsing took longer than {limit:g} s: stopped (a damaged "
                              "file?)")
                continue
            if line is None:
                code = self.proc.wait()
                return lambda path: _reader_error(
                    path, f"the parser process died (exit code {code}) while reading it")
            answer = _parse_answer(line)
            if limit is not None and (answer is not None or line.strip() == json.dumps(READY)):
                deadline = time.monotonic() + limit
            if answer is not None and answer[0] in pending:
                pending.remove(answer[0])
                answers.put(answer)
        return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for thread in self.threads:  # they close the pipes
            thread.join()
        _close(self.proc.stdout)


def _parse_answer(line: str) -> Answer | None:
    """(path, cache entry or error) of a worker's answer line; None for anything else."""
    try:
        answer = json.loads(line)
        path = answer["path"]
        if "meta" in answer:
            notes = np.frombuffer(base64.b64decode(answer["notes"]), "<i8")
            return path, (answer["meta"], notes.astype(np.int64).reshape(-1, 4))
        return path, file_error(path, *answer["error"])
    except (ValueError, KeyError, TypeError):
        return None  # not an answer: the ready line, or something a library printed


def _close(pipe) -> None:
    """Close a worker's pipe (an unclosed one is a ResourceWarning), even a broken one."""
    try:
        pipe.close()
    except OSError:
        pass
