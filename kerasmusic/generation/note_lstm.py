"""Generating note/duration tokens with a model from :func:`create_network`.

The model predicts the next event from the last ``seq_len`` events. Generation
runs on the engine (:mod:`kerasmusic.generation.engine`) with a sliding window:
window in, probabilities out, sample, shift the window, repeat, in one compiled
TensorFlow loop (XLA on CPU). :func:`generate_ids_reference` is the engine's plain
Python loop (``model.predict`` per token); given the same seed both choose the same
tokens, which the tests check.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np

from kerasmusic.data.corpus import read_file
from kerasmusic.data.note_tokens import START, NoteDurationEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.errors import KerasMusicError
from kerasmusic.generation.engine import SlidingWindow, categorical, run_compiled, run_reference
from kerasmusic.models.attention_lstm import check_encoding, has_layer
from kerasmusic.sampling import Sampler
from kerasmusic.validation import check, check_count, check_positive

START_ID = 0  #: the start token's id in both vocabularies: it also ends a piece


def _check_windows(pitch_window, duration_window, model) -> tuple[np.ndarray, np.ndarray]:
    pw = np.asarray(pitch_window, dtype=np.int32)
    dw = np.asarray(duration_window, dtype=np.int32)
    if pw.ndim == 1:
        pw, dw = pw[None], dw[None]
    if pw.ndim != 2 or pw.shape != dw.shape or pw.shape[1] == 0:
        raise KerasMusicError(
            f"primer windows must have the same shape (batch, seq_len); got {pw.shape} and "
            f"{dw.shape}"
        )
    # XLA would read out-of-range embedding rows silently: check ids up front.
    for ids, output in ((pw, "pitch"), (dw, "duration")):
        size = model.get_layer(output).units if has_layer(model, output) else None
        if size is not None and (ids.min() < 0 or ids.max() >= size):
            raise KerasMusicError(f"{output} ids must be in [0, {size}), got "
                                  f"{ids.min()}..{ids.max()}")
    return pw, dw



def _draws(seed: int, n_steps: int, batch: int, heads) -> list[np.ndarray] | None:
    """Both heads' uniforms: the engine's (one block) when both sample by cdf.

    Otherwise a block per head, one after the other from one generator, as this loop
    always drew them (the same seed keeps giving the same tokens).
    """
    if all(h.width == 1 for h in heads):
        return None
    rng = np.random.default_rng(seed)
    return [rng.random((n_steps, batch, h.width), np.float32) for h in heads]


def _setup(model, pitch_window, duration_window, n_steps, pitch_sampler, duration_sampler,
           seed, stop_at_start, pitch_exclude, duration_exclude, min_steps) -> dict:
    """The engine's arguments shared by both loops.

    The pitch head's start token (id 0) ends a piece, never before ``min_steps``; a
    real pitch never gets the start token as its duration (that event would be lost on
    decoding): the start duration comes only with the start pitch.
    """
    pw, dw = _check_windows(pitch_window, duration_window, model)
    check_count("n_steps", n_steps)
    check("min_steps", min_steps, minimum=0, maximum=n_steps, integer=True)
    n_pitches, n_durations = (int(out.shape[-1]) for out in model.outputs[:2])
    heads = [categorical(n_pitches, pitch_sampler, exclude=pitch_exclude, end_id=START_ID),
             categorical(n_durations, duration_sampler, exclude=(START_ID, *duration_exclude))]
    return dict(inputs=(pw, dw), heads=heads, n_steps=n_steps, batch_size=pw.shape[0],
                seed=seed, uniforms=_draws(seed, n_steps, pw.shape[0], heads),
                end_ids=(START_ID, START_ID), stop=stop_at_start, min_steps=min_steps)


def generate_ids(
    model: keras.Model,
    pitch_window,
    duration_window,
    n_steps: int,
    *,
    pitch_sampler: Sampler = Sampler(0.5),
    duration_sampler: Sampler = Sampler(0.5),
    seed: int = 0,
    stop_at_start: bool = True,
    jit_compile: bool | str = "auto",
    pitch_exclude: Sequence[int] = (),
    duration_exclude: Sequence[int] = (),
    min_steps: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n_steps`` events after the given windows in one compiled loop.

    Args:
        model: a model from :func:`create_network` (or any model with the same
            inputs and outputs).
        pitch_window: (batch, seq_len) or (seq_len,) pitch ids to start from.
        duration_window: duration ids, same shape.
        n_steps: number of events to generate.
        pitch_sampler: how to choose pitch tokens.
        duration_sampler: how to choose duration tokens.
        seed: fixes the random draws; same seed, same output.
        stop_at_start: a row that samples the start token (end of piece) stops;
            its remaining positions are filled with id 0.
        jit_compile: compile the loop with XLA; "auto" uses XLA when no GPU is
            visible (a cuDNN LSTM cannot be XLA-compiled).
        pitch_exclude: pitch ids never to choose (e.g. the ``"<unk>"`` token's).
        duration_exclude: duration ids never to choose.
        min_steps: the start token (end of piece) is never chosen in the first
            ``min_steps`` steps; ``n_steps`` gives exactly ``n_steps`` events.

    Returns:
        (pitch ids, duration ids), each int32 of shape (batch, n_steps).
    """
    setup = _setup(model, pitch_window, duration_window, n_steps, pitch_sampler,
                   duration_sampler, seed, stop_at_start, pitch_exclude, duration_exclude,
                   min_steps)
    pitches, durations = run_compiled(SlidingWindow(model), **setup, jit_compile=jit_compile)
    return pitches, durations


def generate_ids_reference(
    model: keras.Model,
    pitch_window,
    duration_window,
    n_steps: int,
    *,
    pitch_sampler: Sampler = Sampler(0.5),
    duration_sampler: Sampler = Sampler(0.5),
    seed: int = 0,
    stop_at_start: bool = True,
    pitch_exclude: Sequence[int] = (),
    duration_exclude: Sequence[int] = (),
    min_steps: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The straightforward loop: ``model.predict`` on the last window for every token.

    Same arguments and result as :func:`generate_ids` (and the same tokens for the
    same seed), many times slower; kept as the reference the compiled loop is
    tested and benchmarked against.
    """
    setup = _setup(model, pitch_window, duration_window, n_steps, pitch_sampler,
                   duration_sampler, seed, stop_at_start, pitch_exclude, duration_exclude,
                   min_steps)
    pitches, durations = run_reference(SlidingWindow(model, predict=True), **setup)
    return pitches, durations


def _primer_events(primer, encoding: NoteDurationEncoding) -> list[tuple[str, str]]:
    if primer is None:
        return []
    if isinstance(primer, Piece):
        return encoding.to_tokens(primer)
    if isinstance(primer, (str, os.PathLike)):
        return encoding.to_tokens(read_file(primer))
    events = list(primer)
    if events and not all(isinstance(e, (tuple, list)) and len(e) == 2 for e in events):
        raise KerasMusicError(
            "a token primer must be a list of (pitch token, duration token) pairs, e.g. "
            "[('C4', '1'), ('rest', '1/2')]"
        )
    return [tuple(e) for e in events]


def generate(
    model: keras.Model,
    encoding: NoteDurationEncoding,
    n_events: int = 256,
    *,
    primer: Piece | str | os.PathLike | Sequence[tuple[str, str]] | None = None,
    temperature: float = 0.5,
    duration_temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    method: str = "cdf",
    n_pieces: int = 1,
    seed: int = 0,
    stop_at_start: bool = True,
    min_events: int = 0,
    include_primer: bool = True,
    tempo: float = 120.0,
    return_lengths: bool = False,
) -> list[Piece] | tuple[list[Piece], list[int]]:
    """Generate ``n_pieces`` pieces of up to ``n_events`` events each.

    The model ends a piece when it predicts the start token (its end-of-piece mark),
    so a piece can have fewer than ``n_events`` events: ``min_events`` rules the end
    out until that many events are generated (``min_events=n_events`` gives exactly
    ``n_events``), and ``return_lengths`` says how many each piece got.

    Args:
        model: a trained model from :func:`create_network`.
        encoding: the encoding (vocabularies) the model was trained with.
        n_events: events (notes, chords or rests) to generate per piece, at most.
        primer: what to continue: a Piece, a MIDI or score file, or a list of
            (pitch token, duration token) pairs. None starts from scratch.
        temperature: pitch sampling temperature (0 = always the likeliest).
        duration_temperature: duration temperature; defaults to ``temperature``.
        top_k: sample pitches and durations among the k likeliest tokens only.
        top_p: sample from the nucleus of probability mass ``top_p`` only.
        method: ``"cdf"`` or ``"gumbel"`` (Gumbel-max); same distribution, other draws.
        n_pieces: pieces generated at once, in one batch.
        seed: fixes the random draws.
        stop_at_start: end a piece when the model predicts the start token.
        min_events: never end a piece before this many generated events (0..n_events).
        include_primer: put the primer's events at the start of each piece.
        tempo: tempo of the returned pieces, quarter notes per minute.
        return_lengths: also return the number of events generated for each piece.

    Returns:
        A list of ``n_pieces`` one-track Pieces; with ``return_lengths``, also a
        list of the events generated for each (the primer's not counted).

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
    """
    check_encoding(model, encoding)
    check_count("n_events", n_events)
    check_count("n_pieces", n_pieces)
    check("min_events", min_events, minimum=0, maximum=n_events, integer=True)
    check_positive("tempo", tempo)
    pitch_sampler = Sampler(temperature, top_k, top_p, method)
    duration_sampler = Sampler(
        temperature if duration_temperature is None else duration_temperature, top_k, top_p,
        method,
    )
    events = _primer_events(primer, encoding)
    pw, dw = encoding.primer(events)
    pitches, durations = generate_ids(
        model, np.tile(pw, (n_pieces, 1)), np.tile(dw, (n_pieces, 1)), n_events,
        pitch_sampler=pitch_sampler, duration_sampler=duration_sampler, seed=seed,
        stop_at_start=stop_at_start, pitch_exclude=_unknown(encoding.pitch_vocabulary),
        duration_exclude=_unknown(encoding.duration_vocabulary), min_steps=min_events,
    )
    pieces, lengths = [], []
    for i in range(n_pieces):
        generated = encoding.decode_ids(pitches[i], durations[i])
        if stop_at_start:
            generated = _until_start(generated)
        lengths.append(len(generated))
        pieces.append(encoding.from_tokens((events if include_primer else []) + generated,
                                           tempo=tempo, name=f"generated_{i}"))
    return (pieces, lengths) if return_lengths else pieces


def _unknown(vocabulary) -> tuple[int, ...]:
    return () if vocabulary.unknown_id is None else (vocabulary.unknown_id,)


def _until_start(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for i, (pitch, _) in enumerate(events):
        if pitch == START:
            return events[:i]
    return events
