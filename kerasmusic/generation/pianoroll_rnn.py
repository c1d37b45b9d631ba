"""Generating piano-roll frames with a model from :func:`build_pianoroll_rnn`.

Each key of the next frame is drawn on its own: it sounds with the model's
probability p for it (a Bernoulli draw), tempered by ``temperature``
(``sigmoid(logit(p) / temperature)``: below 1 sharper, 0 means p > 0.5), or,
with ``threshold``, it sounds exactly when p >= threshold (no randomness).

A model with a joint-keys output (``output="nade"`` or ``"made"``) draws the keys of a
frame one after another instead, each from its probability given the keys already
drawn below it (:func:`sample_keys_jointly`), with the same temperature and threshold
rules.

Generation runs on the engine (:mod:`kerasmusic.generation.engine`): one compiled
TensorFlow loop (XLA on CPU) that steps the model's LSTM cells and carries their
states, so each new frame costs one step, not a pass over the whole piece: the
primer is read frame by frame, then every sampled frame is fed back. Uniform draws
are made up front from the seed (:func:`kerasmusic.sampling.draw_uniforms`), so the
same seed gives the same frames. :func:`generate_frames_reference` is the engine's
plain loop (the whole model on the whole sequence for every frame) it is tested against.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.corpus import read_file
from kerasmusic.data.frames import FrameEncoding
from kerasmusic.data.notes import Piece
from kerasmusic.errors import EncodingError, KerasMusicError
from kerasmusic.generation.engine import Head, run_compiled, run_reference
from kerasmusic.models.joint_keys import JOINT_KEY_LAYERS
from kerasmusic.models.pianoroll_rnn import OUTPUT_LAYER, SKIP_LAYER, reads_next_frames
from kerasmusic.validation import check, check_count, check_positive

_OUTPUT_LAYERS = (keras.layers.Dense, *(layer for layer, _ in JOINT_KEY_LAYERS.values()))
_TINY = 1e-7


def bernoulli_keys(probs, uniform, temperature: float = 1.0, threshold: float | None = None):
    """Which keys sound: float32 0/1 of ``probs``' shape (plain TF ops, XLA-safe).

    Args:
        probs: per-key probabilities (batch, keys).
        uniform: draws in [0, 1), same shape (from :func:`draw_uniforms`).
        temperature: 1 samples the model's probabilities; lower sharpens them
            towards 0/1, higher flattens them towards 1/2; 0 is p > 0.5. A number
            or a scalar tensor (a compiled loop passes it in).
        threshold: if set, a key sounds when p >= threshold, ignoring the draws (a
            number or a scalar tensor).
    """
    probs = tf.cast(probs, tf.float32)
    if threshold is not None:
        return tf.cast(probs >= tf.cast(threshold, tf.float32), tf.float32)
    temperature = tf.cast(temperature, tf.float32)
    p = tf.clip_by_value(probs, _TINY, 1 - _TINY)
    tempered = tf.sigmoid((tf.math.log(p) - tf.math.log1p(-p))
                          / tf.where(temperature > 0, temperature, 1.0))
    drawn = tf.cast(tf.cast(uniform, tf.float32) < tf.where(temperature == 1, probs, tempered),
                    tf.float32)
    return tf.where(temperature > 0, drawn, tf.cast(probs > 0.5, tf.float32))


def sample_keys_jointly(layer, context, uniform, temperature: float = 1.0,
                        threshold: float | None = None):
    """Draw a frame key by key from a joint-keys output layer (plain TF ops, XLA-safe).

    Key k is drawn from the layer's probability for it given the keys already drawn
    below it (the layer never looks at key k or above, so the keys not drawn yet do
    not matter).

    Args:
        layer: the model's :class:`~kerasmusic.NadeKeys` or :class:`~kerasmusic.MadeKeys`.
        context: what the layer reads besides the frame, (batch, D).
        uniform: draws in [0, 1), (batch, keys): key k uses ``uniform[:, k]``.
        temperature, threshold: as in :func:`bernoulli_keys`, applied to each key's
            probability given the keys below it.

    Returns:
        (frame (batch, keys) of 0 and 1, the probability each key was drawn from).
    """
    context = tf.cast(context, tf.float32)
    n_keys = layer.n_keys
    batch = tf.shape(context)[0]

    def one_key(carry, k):
        frame, probs = carry
        p = tf.gather(layer([context, frame]), k, axis=1)
        key = bernoulli_keys(p, tf.gather(uniform, k, axis=1), temperature, threshold)
        column = tf.one_hot(k, n_keys)[None]
        return frame + key[:, None] * column, probs + p[:, None] * column

    zeros = tf.zeros([batch, n_keys])
    frames, probs = tf.scan(one_key, tf.range(n_keys), initializer=(zeros, zeros))
    return frames[-1], probs[-1]


def _check_options(temperature: float, threshold: float | None) -> None:
    check("temperature", temperature, minimum=0)
    check("threshold", threshold, above=0, maximum=1, optional=True)


def _stack(model: keras.Model) -> tuple[list[keras.layers.Layer], bool, keras.layers.Layer]:
    """(recurrent layers in order, whether the input skips to the output, output layer).

    The output layer is a Dense, a :class:`NadeKeys` or a :class:`MadeKeys` named
    ``"keys"``.

    Raises:
        KerasMusicError: the model is not laid out as :func:`build_pianoroll_rnn` makes it.
    """
    recurrent, skip, dense, other = [], False, None, []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout)):
            continue
        if hasattr(layer, "cell") and getattr(layer, "return_sequences", False) and \
                not getattr(layer, "go_backwards", False):
            recurrent.append(layer)
        elif isinstance(layer, keras.layers.Concatenate) and layer.name == SKIP_LAYER:
            skip = True
        elif isinstance(layer, _OUTPUT_LAYERS) and layer.name == OUTPUT_LAYER:
            dense = layer
        else:
            other.append(layer.name)
    if not recurrent or dense is None or other:
        raise KerasMusicError(
            f"model {model.name!r} is not a piano-roll RNN: expected forward recurrent layers "
            f"(return_sequences=True), dropouts, an optional {SKIP_LAYER!r} concatenation and "
            f"a Dense, NadeKeys or MadeKeys named {OUTPUT_LAYER!r}, as build_pianoroll_rnn makes"
            + (f"; unexpected layers: {other}" if other else ""))
    return recurrent, skip, dense


def _frame_width(model: keras.Model) -> int:
    return int(model.inputs[0].shape[-1])


class _Stepped:
    """The engine family of the compiled loop: the recurrent cells stepped, states carried.

    Its input is the primer, read frame by frame; the output is the keys' probabilities
    (for a joint-keys model: the context its output layer reads).
    """

    key = None
    static_shapes = False

    def __init__(self, model: keras.Model):
        self.model = model
        self.recurrent, self.skip, self.head = _stack(model)
        self.joint = not isinstance(self.head, keras.layers.Dense)

    def _cells(self, frame, states):
        """(what the output layer reads, new states) after one frame."""
        x, new_states = frame, []
        for layer, state in zip(self.recurrent, states):
            x, state = layer.cell(x, state, training=False)
            new_states.append(list(state) if isinstance(state, (list, tuple)) else [state])
        if self.skip:
            x = tf.concat([frame, x], axis=-1)
        return [x if self.joint else self.head(x)], new_states

    def start(self, primer):
        batch = tf.shape(primer)[0]
        states = [[tf.zeros([batch, size]) for size in tf.nest.flatten(layer.cell.state_size)]
                  for layer in self.recurrent]
        outputs, states = self._cells(primer[:, 0], states)
        for t in tf.range(1, tf.shape(primer)[1]):
            outputs, states = self._cells(primer[:, t], states)
        return outputs, states

    def step(self, primer, tokens, states, index):
        return self._cells(tokens[0], states)


class _Sequences:
    """The engine family of the reference loop: the whole model on the whole sequence.

    The output is the last frame's probabilities; for a joint-keys model, a function that
    draws the next frame key by key (the whole model once per key). ``probs`` collects
    the probabilities each frame was drawn from.
    """

    def __init__(self, model: keras.Model):
        self.model, self.joint, self.probs = model, reads_next_frames(model), []

    def _output(self, sequence):
        if not self.joint:
            self.probs.append(self.model.predict(sequence, verbose=0)[:, -1])
            return [self.probs[-1]]

        def draw_frame(uniform, temperature, threshold):
            frame, p = np.zeros_like(sequence[:, 0]), np.zeros_like(sequence[:, 0])
            for k in range(frame.shape[1]):
                nxt = np.concatenate([sequence[:, 1:], frame[:, None]], axis=1)
                p[:, k] = self.model.predict([sequence, nxt], verbose=0)[:, -1, k]
                frame[:, k] = bernoulli_keys(p[:, k:k + 1], uniform[:, k:k + 1], temperature,
                                             threshold).numpy()[:, 0]
            self.probs.append(p)
            return frame

        return [draw_frame]

    def start(self, primer):
        return self._output(primer), primer

    def step(self, primer, tokens, sequence, index):
        sequence = np.concatenate([sequence, np.asarray(tokens[0])[:, None]], axis=1)
        return self._output(sequence), sequence


def _keys_head(joint_layer, n_keys: int, temperature: float, threshold: float | None):
    """The engine head drawing a frame's keys: one by one from ``joint_layer`` if given.

    Its output is the keys' probabilities, the context ``joint_layer`` reads, or (in the
    reference loop) a function that draws the frame itself.
    """
    thresholded = threshold is not None

    def draw(output, uniform, values, may_end):
        limit = values[1] if thresholded else None
        if callable(output):
            return output(uniform, values[0], limit)
        if joint_layer is not None:
            return sample_keys_jointly(joint_layer, output, uniform, values[0], limit)[0]
        return bernoulli_keys(output, uniform, values[0], limit)

    values = np.array([temperature, 1.0 if threshold is None else threshold], np.float32)
    return Head(draw, n_keys, values, ("keys", thresholded, joint_layer is not None),
                tf.float32)


def _check_primer(primer, width: int) -> np.ndarray:
    primer = np.asarray(primer, np.float32)
    if primer.ndim == 2:
        primer = primer[None]
    if primer.ndim != 3 or primer.shape[-1] != width:
        raise EncodingError("primer", f"frames must have shape (batch, frames, {width}) or "
                                      f"(frames, {width}); got {primer.shape}")
    if primer.shape[1] < 1:
        raise EncodingError("primer", "the primer is too short: it needs at least one frame")
    return primer


def generate_frames(
    model: keras.Model,
    primer,
    n_steps: int,
    *,
    temperature: float = 1.0,
    threshold: float | None = None,
    seed: int = 0,
    jit_compile: bool | str = "auto",
) -> np.ndarray:
    """Generate ``n_steps`` frames after ``primer`` in one compiled loop.

    Args:
        model: a model from :func:`build_pianoroll_rnn`.
        primer: frames (batch, frames, keys) or (frames, keys) to continue, at least one.
        n_steps: frames to generate.
        temperature: per-key sampling temperature (see :func:`bernoulli_keys`).
        threshold: deterministic threshold instead of sampling.
        seed: fixes the draws; same seed, same frames.
        jit_compile: XLA-compile the loop; "auto" uses XLA when no GPU is visible.

    Returns:
        float32 frames (batch, n_steps, keys) of 0 and 1 (the primer not included).
    """
    _check_options(temperature, threshold)
    primer = _check_primer(primer, _frame_width(model))
    check_count("n_steps", n_steps)
    family = _Stepped(model)
    head = _keys_head(family.head if family.joint else None, primer.shape[2], temperature,
                      threshold)
    return run_compiled(family, primer, [head], n_steps, batch_size=primer.shape[0], seed=seed,
                        jit_compile=jit_compile)[0]


def generate_frames_reference(
    model: keras.Model,
    primer,
    n_steps: int,
    *,
    temperature: float = 1.0,
    threshold: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The plain loop: the whole model on primer + frames so far, for every frame.

    Same draws as :func:`generate_frames`. Returns (frames, the probabilities each
    frame was drawn from), both (batch, n_steps, keys); many times slower. A joint-keys
    model is run once per key (each key's probability given the keys drawn below it).
    """
    _check_options(temperature, threshold)
    primer = _check_primer(primer, _frame_width(model))
    check_count("n_steps", n_steps)
    family = _Sequences(model)
    frames = run_reference(family, primer, [_keys_head(None, primer.shape[2], temperature,
                                                       threshold)],
                           n_steps, batch_size=primer.shape[0], seed=seed)[0]
    return frames, np.stack(family.probs, 1)


def _primer_frames(primer, encoding: FrameEncoding) -> np.ndarray:
    if primer is None:
        return np.zeros((1, encoding.n_pitches), np.float32)  # one silent frame
    if isinstance(primer, (str, os.PathLike)):
        primer = read_file(primer)
    if isinstance(primer, Piece):
        return encoding.encode(primer)
    frames = np.asarray(primer, np.float32)
    if frames.ndim != 2 or frames.shape[1] != encoding.n_pitches:
        raise EncodingError("primer", f"primer frames must have shape (frames, "
                                      f"{encoding.n_pitches}), got {frames.shape}")
    return frames


def generate_pianoroll(
    model: keras.Model,
    encoding: FrameEncoding,
    n_steps: int = 256,
    *,
    primer: Piece | str | os.PathLike | np.ndarray | None = None,
    primer_steps: int | None = None,
    temperature: float = 1.0,
    threshold: float | None = None,
    n_pieces: int = 1,
    seed: int = 0,
    include_primer: bool = True,
    tempo: float = 120.0,
) -> list[Piece]:
    """Generate ``n_pieces`` pieces of ``n_steps`` frames each and decode them.

    Args:
        model: a trained model from :func:`build_pianoroll_rnn`.
        encoding: the frame encoding it was trained with.
        n_steps: frames to generate (at the default step, 16 make a 4/4 bar).
        primer: what to continue: a Piece, a MIDI or score file, or frames
            (frames, keys). None starts from one silent frame.
        primer_steps: use only the first ``primer_steps`` frames of the primer.
        temperature: per-key sampling temperature (0: p > 0.5).
        threshold: a key sounds when p >= threshold (deterministic) instead.
        n_pieces: pieces generated together in one batch.
        seed: fixes the draws.
        include_primer: start each piece with the primer's frames.
        tempo: tempo of the returned pieces.

    Returns:
        A list of one-track Pieces.

    Raises:
        EncodingError: the primer has no note in the key range, or is too short.
    """
    encoding.check_model(model)
    check_count("n_steps", n_steps)
    check_count("n_pieces", n_pieces)
    check_count("primer_steps", primer_steps, optional=True)
    check_positive("tempo", tempo)
    _check_options(temperature, threshold)
    frames = _primer_frames(primer, encoding)
    if primer_steps is not None:
        frames = frames[:primer_steps]
    batch = np.tile(frames[None], (n_pieces, 1, 1))
    generated = generate_frames(model, batch, n_steps, temperature=temperature,
                                threshold=threshold, seed=seed)
    pieces = []
    for i in range(n_pieces):
        roll = np.concatenate([frames, generated[i]]) if include_primer and primer is not None \
            else generated[i]
        pieces.append(encoding.decode(roll, tempo=tempo, name=f"generated_{i}"))
    return pieces
