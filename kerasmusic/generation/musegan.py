"""Sampling a MuseGAN generator: phrases, and pieces of any number of bars.

A generator (:func:`~kerasmusic.build_generator_network`) makes one phrase of
``n_bars`` bars from noise vectors: ``chords`` and ``style`` shared by the tracks,
``melody`` and ``groove`` one per track. Of these, ``chords`` and ``melody`` go
through the temporal networks and change from bar to bar; ``style`` and ``groove``
hold for the whole phrase. A longer piece is a chain of phrases in which

- ``style`` and ``groove`` stay the same (one piece, one style);
- ``chords`` and ``melody`` walk: each phrase's vectors are the last phrase's times
  ``continuity`` plus fresh noise times ``sqrt(1 - continuity^2)``, so every vector
  is still standard normal (what the generator was trained on) while consecutive
  phrases stay close.

:func:`generate_rolls` works from the saved generator alone (``km.load_model``), so a
trained run can make pieces without its critic or optimizer state.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.notes import Piece
from kerasmusic.data.pianoroll import MultiTrackPianoRoll, TrackSelector
from kerasmusic.errors import KerasMusicError

NOISE_INPUTS = ("chords", "style", "melody", "groove")
CONDITION_INPUT = "condition"


def _input_shapes(generator: keras.Model) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for tensor in generator.inputs:
        name = tensor.name.split(":")[0]
        if name not in (*NOISE_INPUTS, CONDITION_INPUT):
            raise KerasMusicError(f"{generator.name}: input {name!r} is not a MuseGAN noise "
                                  f"input {NOISE_INPUTS} or {CONDITION_INPUT!r}")
        shapes[name] = tuple(int(d) for d in tensor.shape[1:])
    return shapes


def condition_tracks_of(generator: keras.Model) -> list[int]:
    """The output tracks a track-conditional generator is given (empty: unconditional)."""
    # build_generator_network names the layer placing given track t in bar 0 "given_t_bar_0"
    found = (re.fullmatch(r"given_(\d+)_bar_0", layer.name) for layer in generator.layers)
    return sorted(int(match.group(1)) for match in found if match)


def generate_rolls(generator: keras.Model, n: int = 1, *, n_bars: int | None = None,
                   continuity: float = 0.8, seed: int = 0, batch_size: int = 64,
                   condition: np.ndarray | None = None) -> np.ndarray:
    """``n`` generated pieces of ``n_bars`` bars: (n, n_bars, steps, pitches, tracks).

    Args:
        generator: a MuseGAN generator (inputs named ``chords``, ``style``,
            ``melody``, ``groove``, as its mode has them).
        n: pieces to make.
        n_bars: bars per piece (default: one phrase); more than a phrase chains
            phrases as the module docstring says, and the last is cut to length.
        continuity: how much of the last phrase's chords / melody noise the next
            keeps, in [0, 1): 0 draws each phrase anew.
        seed: fixes every draw.
        batch_size: phrases per generator call.
        condition: for a track-conditional (accompaniment) generator, the given
            tracks: (n, bars, steps, pitches, given tracks) in -1 / 1, or one piece's
            (bars, steps, pitches, given tracks) for all ``n``. ``n_bars`` defaults to
            its length; a part shorter than ``n_bars`` is continued in silence. The
            given tracks come back unchanged.

    Returns:
        The generator's raw values in [-1, 1]; binarize them with the encoding
        (``encoding.binarize``) or decode each piece (``encoding.decode``, any
        number of bars).
    """
    phrase_bars = int(generator.output.shape[1])
    shapes = _input_shapes(generator)
    if (CONDITION_INPUT in shapes) != (condition is not None):
        raise KerasMusicError(
            "an accompaniment generator needs condition= (the given tracks)"
            if condition is None else "this generator takes no condition: it makes every track")
    if condition is not None:
        condition = np.asarray(condition, np.float32)
        if condition.ndim == 4:
            condition = np.broadcast_to(condition, (n, *condition.shape))
        if condition.shape[0] != n or condition.shape[2:] != shapes[CONDITION_INPUT][1:]:
            raise KerasMusicError(f"condition must be (n={n}, bars, "
                                  f"{', '.join(map(str, shapes[CONDITION_INPUT][1:]))}), "
                                  f"got {condition.shape}")
        n_bars = condition.shape[1] if n_bars is None else n_bars
    n_bars = phrase_bars if n_bars is None else int(n_bars)
    if n < 1 or n_bars < 1:
        raise KerasMusicError(f"n and n_bars must be at least 1, got n={n}, n_bars={n_bars}")
    if not 0 <= continuity < 1:
        raise KerasMusicError(f"continuity must be in [0, 1), got {continuity}")
    n_phrases = math.ceil(n_bars / phrase_bars)
    if condition is not None:
        silence = np.full((n, n_phrases * phrase_bars, *condition.shape[2:]), -1.0, np.float32)
        length = min(condition.shape[1], silence.shape[1])
        silence[:, :length] = condition[:, :length]
        condition = silence
    rng = np.random.default_rng(seed)
    noise = {name: rng.standard_normal((n, *shape)).astype(np.float32)
             for name, shape in shapes.items() if name != CONDITION_INPUT}
    fresh = math.sqrt(1.0 - continuity**2)
    phrases = []
    for i in range(n_phrases):
        if i:
            for name in ("chords", "melody"):
                if name in noise:
                    step = rng.standard_normal(noise[name].shape).astype(np.float32)
                    noise[name] = continuity * noise[name] + fresh * step
        if condition is not None:
            noise[CONDITION_INPUT] = condition[:, i * phrase_bars:(i + 1) * phrase_bars]
        inputs = [noise[tensor.name.split(":")[0]] for tensor in generator.inputs]
        phrases.append(_predict(generator, inputs, batch_size))
    rolls = np.concatenate(phrases, axis=1)[:, :n_bars]
    return rolls.astype(np.float32)


def _predict(generator: keras.Model, inputs: list[np.ndarray], batch_size: int) -> np.ndarray:
    """The generator in inference mode (batch statistics of training), in batches."""
    out = [keras.ops.convert_to_numpy(tf.cast(
        generator([x[i:i + batch_size] for x in inputs], training=False), tf.float32))
        for i in range(0, len(inputs[0]), batch_size)]
    return np.concatenate(out)


def condition_from_piece(piece: Piece, encoding: MultiTrackPianoRoll,
                         tracks: Sequence[TrackSelector]) -> np.ndarray:
    """The given part(s) of ``piece`` on the encoding's grid: (bars, steps, pitches, len(tracks)).

    ``tracks`` are track selectors of ``piece`` (e.g. ``[0]``, ``["name:melody"]``),
    one per given track of the generator, in its order. Notes outside the encoding's
    pitch range cannot be given and are left out with a warning.

    Raises:
        KerasMusicError: a selector matches no track of ``piece``.
    """
    config = {**encoding.get_config(), "tracks": list(tracks), "programs": [0] * len(tracks),
              "missing": "skip"}
    part = MultiTrackPianoRoll.from_config(config)
    low, high = encoding.lowest_pitch, encoding.lowest_pitch + encoding.n_pitches - 1
    outside = sum(not low <= n.pitch <= high
                  for chosen in part.select(piece) for t in chosen for n in t.notes)
    if outside:
        warnings.warn(f"kerasmusic: {piece.name or 'the given part'}: {outside} notes outside "
                      f"the model's pitches {low}..{high} are left out", stacklevel=2)
    roll = part.to_roll(piece)
    steps, pitches = encoding.n_steps_per_bar, encoding.n_pitches
    return np.where(roll, 1.0, -1.0).astype(np.float32).reshape(-1, steps, pitches, len(tracks))
