"""Pieces from a Music Transformer trained on REMI tokens (:class:`~kerasmusic.RemiEncoding`).

:func:`generate_remi` prompts with ``<start>`` (and a primer's ids: a continuation) and
samples with :func:`~kerasmusic.generate_sequence` (key/value cache, ``end_id`` =
``<end>``: a row that draws ``<end>`` is over). A piece longer than the model's
``max_len`` is made by a sliding continuation: once the sequence fills the window, the
last ``max_len // 2`` ids are read again (a new prefill) and ``max_len - max_len // 2``
more are drawn, as often as needed. The model was trained on windows that start
anywhere in a piece, so a window that starts mid-bar is what it knows; what lies before
the window is forgotten. The whole sequence is decoded with
:meth:`~kerasmusic.RemiEncoding.decode`, which reads any sequence (ungrammatical ones
too: see there).

:func:`generate_accompaniment` makes the other tracks around a given one with a model
trained with ``condition_track`` (examples ``<start>`` given track ``<sep>`` the
others ``<end>``, one per span of ``condition_bars`` bars): for each span it prompts
with the given track's ids and ``<sep>`` and decodes what follows; the given track is
put back into the piece as it was given.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

from kerasmusic.data.corpus import read_file
from kerasmusic.data.notes import Piece, Track
from kerasmusic.data.remi import RemiEncoding
from kerasmusic.errors import InvalidArgumentError, KerasMusicError
from kerasmusic.generation.compiled import loop_cache
from kerasmusic.generation.music_transformer import _max_len, generate_sequence
from kerasmusic.models.music_transformer import every_step_model
from kerasmusic.sampling import Sampler
from kerasmusic.validation import check_count


def _chunk_seed(seed: int, chunk: int) -> int:
    """A seed per generate_sequence call, all fixed by ``seed``."""
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1)[0] >> 1)


def _setup(model: keras.Model, encoding: RemiEncoding, n_pieces: int, seed: int):
    if not isinstance(encoding, RemiEncoding):
        raise InvalidArgumentError(f"encoding must be a RemiEncoding, got "
                                   f"{type(encoding).__name__}")
    check_count("n_pieces", n_pieces)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgumentError(f"seed must be a whole number >= 0, got {seed!r}")
    # kept on the saved model, so that its compiled loops are traced once, not per call
    steps = loop_cache(model, "_kerasmusic_every_step_model")
    if "model" not in steps:
        steps["model"] = every_step_model(model)
    model = steps["model"]
    encoding.check_model(model)
    return model, _max_len(model)


def _cut_at_end(row: np.ndarray, end_id: int) -> np.ndarray:
    ends = np.flatnonzero(row == end_id)
    return row[:ends[0]] if len(ends) else row


def continue_ids(model: keras.Model, prompt: np.ndarray, n_tokens: int, *, end_id: int,
                 sampler: Sampler, seed: int = 0, use_cache: bool = True) -> np.ndarray:
    """Continue the rows of ``prompt`` (batch, P) by up to ``n_tokens`` ids each, past the
    model's ``max_len`` by a sliding continuation (see the module), stopping at
    ``end_id``. Returns (batch, n_tokens) ids; a row that ended holds ``end_id`` after
    its end (the calls stop once every row has ended)."""
    max_len = _max_len(model)
    seq = np.asarray(prompt, np.int32)
    start, chunk, ended = seq.shape[1], 0, np.zeros(len(seq), bool)
    while seq.shape[1] - start < n_tokens and not ended.all():
        context = seq if seq.shape[1] < max_len else seq[:, -(max_len // 2):]
        n = min(n_tokens - (seq.shape[1] - start), max_len - context.shape[1])
        new = generate_sequence(model, context, n, use_cache=use_cache, sampler=sampler,
                                seed=_chunk_seed(seed, chunk), end_id=end_id)
        new[ended] = end_id
        ended |= (new == end_id).any(axis=1)
        seq, chunk = np.concatenate([seq, new], axis=1), chunk + 1
    out = np.full((len(seq), n_tokens), end_id, np.int32)
    out[:, :seq.shape[1] - start] = seq[:, start:]
    return out


def _read_piece(value, what: str) -> Piece:
    """``value`` as a Piece: a Piece, or a MIDI / score file read."""
    if isinstance(value, (str, os.PathLike)):
        value = read_file(value)
    if not isinstance(value, Piece):
        raise InvalidArgumentError(f"{what} must be a Piece or a MIDI / score file, got "
                                   f"{type(value).__name__}")
    return value


def _primer_ids(primer, encoding: RemiEncoding) -> np.ndarray:
    if primer is None:
        return np.zeros(0, np.int64)
    return encoding.encode(_read_piece(primer, "primer"))


def generate_remi(
    model: keras.Model,
    encoding: RemiEncoding,
    n_tokens: int = 512,
    *,
    primer: Piece | str | os.PathLike | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    method: str = "cdf",
    n_pieces: int = 1,
    seed: int = 0,
    use_cache: bool = True,
    return_lengths: bool = False,
) -> list[Piece] | tuple[list[Piece], list[int]]:
    """Sample ``n_pieces`` pieces from a Music Transformer trained on REMI tokens.

    Args:
        model: the saved model of ``train_music_transformer(tokens="remi")`` (or the
            one that predicts after every step).
        encoding: its :class:`~kerasmusic.RemiEncoding`.
        n_tokens: ids to generate per piece at most (a piece ends earlier when it
            draws ``<end>``); may exceed the model's ``max_len`` (sliding continuation).
        primer: a Piece or a MIDI / score file to continue: its REMI ids follow
            ``<start>`` in the prompt, and its notes (as the tokens hold them) open
            every piece.
        temperature, top_k, top_p, method: the :class:`~kerasmusic.Sampler`.
        n_pieces: pieces, generated together as one batch.
        seed: fixes the draws; same seed, same pieces.
        use_cache: step with the key/value cache (False: the whole window each step,
            the same ids, slower).
        return_lengths: also return the ids generated for each piece before ``<end>``.

    Returns:
        The pieces (named ``"generated i"``), and their lengths with ``return_lengths``.

    Raises:
        InvalidArgumentError: a bad count, seed, sampler or primer.
        VocabularyMismatchError: the model does not predict this encoding's ids.
    """
    model, _ = _setup(model, encoding, n_pieces, seed)
    check_count("n_tokens", n_tokens)
    primer_ids = _primer_ids(primer, encoding)
    prompt = np.tile(np.concatenate([[encoding.start_id], primer_ids]), (n_pieces, 1))
    ids = continue_ids(model, prompt, n_tokens, end_id=encoding.end_id, seed=seed,
                       sampler=Sampler(temperature, top_k, top_p, method),
                       use_cache=use_cache)
    rows = [_cut_at_end(row, encoding.end_id) for row in ids]
    pieces = [encoding.decode(np.concatenate([primer_ids, row]), name=f"generated {i}")
              for i, row in enumerate(rows)]
    return (pieces, [len(r) for r in rows]) if return_lengths else pieces


def _given_track(piece, track: int) -> tuple[Piece, Track]:
    piece = _read_piece(piece, "piece")
    if not isinstance(track, (int, np.integer)) or not 0 <= track < len(piece.tracks):
        raise InvalidArgumentError(f"track must be one of the piece's {len(piece.tracks)} "
                                   f"tracks (0..{len(piece.tracks) - 1}), got {track!r}")
    return piece, piece.tracks[track]


def generate_accompaniment(
    model: keras.Model,
    encoding: RemiEncoding,
    piece: Piece | str | os.PathLike,
    *,
    track: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    method: str = "cdf",
    n_pieces: int = 1,
    seed: int = 0,
    use_cache: bool = True,
) -> list[Piece]:
    """The other tracks around track ``track`` of ``piece``, from an accompaniment model.

    Each span of ``encoding.condition_bars`` bars is generated on its own (prompt:
    ``<start>``, the given track's ids in the span, ``<sep>``; at most ``max_len`` ids
    in all, stopping at ``<end>``). Generated notes on the given track's number are
    dropped; the given track is returned unchanged, at its track number among the
    generated ones (tempo, time signature and tempo changes are the piece's).

    Args:
        model: a model trained with ``train_music_transformer(tokens="remi",
            condition_track=...)``.
        encoding: its RemiEncoding (with ``condition_track``).
        piece: a Piece or a MIDI / score file.
        track: the index of the given track in ``piece``.
        temperature, top_k, top_p, method: the :class:`~kerasmusic.Sampler`.
        n_pieces: accompaniments of the same track (one batch).
        seed: fixes the draws.
        use_cache: step with the key/value cache.

    Returns:
        ``n_pieces`` pieces named ``"accompaniment i"``.

    Raises:
        KerasMusicError: not an accompaniment model, or a span of the given track whose
            ids fill the model's window (train with a longer ``seq_len`` or fewer
            ``condition_bars``).
    """
    model, max_len = _setup(model, encoding, n_pieces, seed)
    if encoding.condition_track is None:
        raise KerasMusicError("this model was not trained to accompany a track (its REMI "
                              "encoding has no condition_track): train it with "
                              "condition_track / --condition-track")
    piece, given = _given_track(piece, track)
    sampler = Sampler(temperature, top_k, top_p, method)
    slot = encoding.condition_track
    notes: list[dict] = [{} for _ in range(n_pieces)]
    for i, start in enumerate(encoding.span_starts(piece)):
        prompt = encoding.condition_prompt(given, piece, start)
        if len(prompt) >= max_len:
            raise KerasMusicError(
                f"bars {i * encoding.condition_bars + 1}.. of the given track are "
                f"{len(prompt)} ids with <start> and <sep>, the model reads {max_len}: "
                "train with a longer seq_len or fewer condition_bars")
        ids = continue_ids(model, np.tile(prompt, (n_pieces, 1)), max_len - len(prompt),
                           end_id=encoding.end_id, sampler=sampler, seed=_chunk_seed(seed, i),
                           use_cache=use_cache)
        for row, into in zip(ids, notes):
            made, _, _ = encoding.decode_notes(_cut_at_end(row, encoding.end_id))
            for key, span_notes in made.items():
                if key[0] != slot:
                    into.setdefault(key, []).extend(
                        dataclasses.replace(n, start=n.start + start) for n in span_notes)
    pieces = []
    for i, made in enumerate(notes):
        tracks = [(key, encoding.decoded_track(key, made[key])) for key in sorted(made)]
        at = sum(1 for key, _ in tracks if key[0] < slot)
        ordered = [t for _, t in tracks[:at]] + [given] + [t for _, t in tracks[at:]]
        pieces.append(Piece(ordered, tempo=piece.tempo, time_signature=piece.time_signature,
                            name=f"accompaniment {i}", tempo_changes=list(piece.tempo_changes)))
    return pieces

