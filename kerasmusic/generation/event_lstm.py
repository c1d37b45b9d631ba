"""Generating note events with a model from :func:`build_event_lstm`.

As in the seed, the model reads the last ``seq_len`` events and predicts the next
one; the new event is appended and the oldest dropped. Each head is sampled with
its own :class:`~kerasmusic.sampling.Sampler` (temperature, top-k, top-p, Gumbel),
from uniform draws made up front from the seed, inside one compiled TensorFlow
loop (XLA on CPU): the engine (:mod:`kerasmusic.generation.engine`) with a sliding
window. :func:`generate_event_ids_reference` is the engine's plain Python loop
(``model.predict`` per event); fed the same seed, both pick the same events.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from kerasmusic.data.corpus import read_file
from kerasmusic.data.events import HEADS, EventEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.errors import EncodingError, KerasMusicError
from kerasmusic.generation.engine import SlidingWindow, categorical, run_compiled, run_reference
from kerasmusic.sampling import Sampler
from kerasmusic.validation import check_count, check_positive


def _head_sizes(model: keras.Model) -> list[int]:
    sizes = [int(t.shape[-1]) for t in model.outputs]
    if len(sizes) != 3 or list(model.output_names) != list(HEADS):
        raise KerasMusicError(f"model {model.name!r} is not an event LSTM: expected the "
                              f"outputs {list(HEADS)}, got {list(model.output_names)}")
    return sizes


def _check_window(window, sizes, seq_len: int | None = None, name: str = "primer"
                  ) -> np.ndarray:
    w = np.asarray(window)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or w.shape[-1] != 3:
        raise EncodingError(name, f"event windows must have shape (batch, events, 3) or "
                                  f"(events, 3); got {w.shape}")
    if w.shape[1] < max(1, seq_len or 1):
        raise EncodingError(name, f"the primer is too short: {w.shape[1]} events, the model "
                                  f"reads windows of {seq_len or 1}")
    # One-hot of an out-of-range id is silently all zeros: check up front.
    for i, (size, head) in enumerate(zip(sizes, HEADS)):
        if w[..., i].min() < 0 or w[..., i].max() >= size:
            raise EncodingError(name, f"{head} ids must be in 0..{size - 1}, got "
                                      f"{w[..., i].min()}..{w[..., i].max()}")
    return w.astype(np.int32)


def _setup(model, window, n_steps, samplers, seed) -> dict:
    """The engine's arguments shared by both loops: one categorical head per sampler."""
    sizes = _head_sizes(model)
    window = _check_window(window, sizes)
    check_count("n_steps", n_steps)
    heads = [categorical(size, sampler) for size, sampler in zip(sizes, samplers)]
    return dict(inputs=(window,), heads=heads, n_steps=n_steps, batch_size=window.shape[0],
                seed=seed)


def generate_event_ids(
    model: keras.Model,
    window,
    n_steps: int,
    *,
    note_sampler: Sampler = Sampler(1.0),
    velocity_sampler: Sampler = Sampler(1.0),
    time_sampler: Sampler = Sampler(1.0),
    seed: int = 0,
    jit_compile: bool | str = "auto",
) -> np.ndarray:
    """Generate ``n_steps`` events after ``window`` in one compiled loop.

    Args:
        model: a model from :func:`build_event_lstm`.
        window: event ids (batch, seq_len, 3) or (seq_len, 3) to continue.
        n_steps: events to generate.
        note_sampler: how to pick the note.
        velocity_sampler: how to pick the velocity (0 = note-off).
        time_sampler: how to pick the time class.
        seed: fixes the draws; same seed, same events.
        jit_compile: XLA-compile the loop; "auto" uses XLA when no GPU is visible.

    Returns:
        int32 events (batch, n_steps, 3).
    """
    setup = _setup(model, window, n_steps, (note_sampler, velocity_sampler, time_sampler), seed)
    return np.stack(run_compiled(SlidingWindow(model, stacked=True), **setup,
                                 jit_compile=jit_compile), axis=-1)


def generate_event_ids_reference(
    model: keras.Model,
    window,
    n_steps: int,
    *,
    note_sampler: Sampler = Sampler(1.0),
    velocity_sampler: Sampler = Sampler(1.0),
    time_sampler: Sampler = Sampler(1.0),
    seed: int = 0,
) -> np.ndarray:
    """The plain loop: ``model.predict`` on the last window for every event.

    Same arguments, draws and result as :func:`generate_event_ids`; many times slower.
    """
    setup = _setup(model, window, n_steps, (note_sampler, velocity_sampler, time_sampler), seed)
    return np.stack(run_reference(SlidingWindow(model, stacked=True, predict=True),
                                  **setup), axis=-1)


def _encode_primer(primer, encoding: EventEncoding) -> tuple[np.ndarray, str]:
    if isinstance(primer, (str, os.PathLike)):
        primer = read_file(primer)
    if isinstance(primer, Piece):
        return encoding.encode(primer), primer.name or "primer"
    return np.asarray(primer), "primer"


def generate_events(
    model: keras.Model,
    encoding: EventEncoding,
    primer: Piece | str | os.PathLike | np.ndarray,
    n_events: int = 256,
    *,
    primer_events: int | None = None,
    temperature: float = 1.0,
    velocity_temperature: float | None = None,
    time_temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    method: str = "cdf",
    n_pieces: int = 1,
    seed: int = 0,
    include_primer: bool = True,
    tempo: float = 120.0,
) -> list[Piece]:
    """Continue ``primer`` with ``n_events`` generated events and decode to pieces.

    Args:
        model: a trained model from :func:`build_event_lstm`.
        encoding: the event encoding it was trained with.
        primer: a Piece, a MIDI or score file, or event ids (events, 3); its last
            ``encoding.seq_len`` events start the window.
        n_events: events to generate per piece (each note takes two: on and off).
        primer_events: use only the first ``primer_events`` events of the primer (the
            seed primes with the first 30 events of a piece).
        temperature: note sampling temperature (0: always the likeliest).
        velocity_temperature: velocity temperature (default ``temperature``).
        time_temperature: time temperature (default ``temperature``).
        top_k: sample each head among its k likeliest classes only.
        top_p: sample each head from its nucleus of mass ``top_p`` only.
        method: ``"cdf"`` or ``"gumbel"`` (see :mod:`kerasmusic.sampling`).
        n_pieces: pieces generated together in one batch.
        seed: fixes the draws.
        include_primer: start each piece with the primer's events.
        tempo: tempo of the returned pieces.

    Returns:
        A list of one-track Pieces.

    Raises:
        EncodingError: the primer (named) has fewer than ``seq_len`` events or no
            note in the key range.
    """
    encoding.check_model(model)
    check_count("n_events", n_events)
    check_count("n_pieces", n_pieces)
    check_count("primer_events", primer_events, optional=True)
    check_positive("tempo", tempo)
    events, name = _encode_primer(primer, encoding)
    if primer_events is not None:
        events = events[:primer_events]
    events = _check_window(events, encoding.sizes, encoding.seq_len, name)[0]
    window = events[-encoding.seq_len:]

    def sampler(t):
        return Sampler(temperature if t is None else t, top_k, top_p, method)

    generated = generate_event_ids(
        model, np.tile(window[None], (n_pieces, 1, 1)), n_events,
        note_sampler=sampler(None), velocity_sampler=sampler(velocity_temperature),
        time_sampler=sampler(time_temperature), seed=seed)
    pieces = []
    for i in range(n_pieces):
        ids = np.concatenate([events, generated[i]]) if include_primer else generated[i]
        pieces.append(encoding.decode(ids, tempo=tempo, name=f"generated_{i}"))
    return pieces
