"""MuseGAN builders (Dong et al. 2018, as the seed chapter gives them).

Tensors are (batch, n_bars, n_steps_per_bar, n_pitches, n_tracks) piano rolls in
[-1, 1]. The seed configuration: 2 bars x 16 steps x 84 pitches x 4 tracks, z_dim 32.

- :func:`build_temporal_network`: z -> (n_bars, z), one vector per bar;
- :func:`build_bar_generator`: a 4 z vector -> one bar of one track;
- :func:`build_critic`: a piano-roll tensor -> an unbounded score (WGAN critic);
- :func:`build_generator_network`: the whole multi-track generator (jamming, composer
  or hybrid), built from the above with registered slicing layers, never lambdas, so
  every track and bar really gets its own slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import ops

from kerasmusic.errors import KerasMusicError
from kerasmusic.models.layers import register
from kerasmusic.models.patch_conv import PatchConv2D, PatchConv2DTranspose, PatchConv3D


def _init(weight_init):
    return weight_init if weight_init is not None else keras.initializers.RandomNormal(
        mean=0.0, stddev=0.02)


@register
class TakeIndex(keras.layers.Layer):
    """``x[:, index]`` along ``axis`` (a registered, serialisable slice; no lambda)."""

    def __init__(self, index: int, axis: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.index, self.axis = int(index), int(axis)

    def call(self, x):
        return ops.take(x, self.index, axis=self.axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        del shape[self.axis]
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "index": self.index, "axis": self.axis}


def _conv_layers(patch_convs: bool):
    """(Conv2DTranspose, Conv3D) classes: the one-matmul versions or Keras' own."""
    if patch_convs:
        return PatchConv2DTranspose, PatchConv3D
    return keras.layers.Conv2DTranspose, keras.layers.Conv3D


def _batch_norm(synchronized: bool):
    # synchronized: batch statistics over all replicas of a tf.distribute strategy
    return keras.layers.BatchNormalization(momentum=0.9, synchronized=synchronized)


def build_temporal_network(z_dim: int, n_bars: int, weight_init=None, *,
                           synchronized_bn: bool = False, patch_convs: bool = True) -> keras.Model:
    """z (batch, z_dim) -> (batch, n_bars, z_dim): a vector per bar.

    ``Conv2DTranspose(512, (2, 1))`` and ``Conv2DTranspose(z_dim, (n_bars - 1, 1))``,
    each with ``BatchNormalization(momentum=0.9)`` and ReLU.

    Args:
        z_dim: size of the noise vector.
        n_bars: bars to make (at least 2).
        weight_init: kernel initializer (default: normal, stddev 0.02).
        synchronized_bn: batch normalisation over all replicas when distributed.
        patch_convs: compute the transposed convolutions whose patches do not overlap
            as one matrix product (:mod:`kerasmusic.models.patch_conv`: same weights
            and outputs, several times faster on a CPU); False: Keras' own layers.
    """
    if n_bars < 2:
        raise KerasMusicError(f"the temporal network makes 2 or more bars, got n_bars={n_bars}")
    layers = keras.layers
    conv_transpose, _ = _conv_layers(patch_convs)
    z = keras.Input((z_dim,), name="temporal_input")
    x = layers.Reshape((1, 1, z_dim))(z)
    x = conv_transpose(512, (2, 1), padding="valid", kernel_initializer=_init(weight_init))(x)
    x = _batch_norm(synchronized_bn)(x)
    x = layers.Activation("relu")(x)
    x = conv_transpose(z_dim, (n_bars - 1, 1), padding="valid",
                       kernel_initializer=_init(weight_init))(x)
    x = _batch_norm(synchronized_bn)(x)
    x = layers.Activation("relu")(x)
    return keras.Model(z, layers.Reshape((n_bars, z_dim))(x), name="temporal_network")


@register
class OctavePitchClasses(keras.layers.Layer):
    """Given bars (batch, steps, pitches, tracks) in -1 / 1 -> what pitch classes sound,
    per step, repeated for every octave: (batch, steps, octaves, 12 tracks), 1 / 0.

    The accompaniment's bar generators read it beside their octave-wide layer, so each
    octave of a generated track knows, step by step, which pitch classes the given
    tracks sound (in any octave).
    """

    def __init__(self, octaves: int, **kwargs):
        super().__init__(**kwargs)
        self.octaves = int(octaves)

    def call(self, bars):
        steps, pitches, tracks = bars.shape[1], bars.shape[2], bars.shape[3]
        on = ops.cast(bars > 0, self.compute_dtype)
        by_octave = ops.reshape(on, (-1, steps, pitches // 12, 12 * tracks))
        classes = ops.max(by_octave, axis=2, keepdims=True)
        return ops.repeat(classes, self.octaves, axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.octaves, 12 * input_shape[3])

    def get_config(self):
        return {**super().get_config(), "octaves": self.octaves}


def _check_bar_shape(n_steps_per_bar: int, n_pitches: int) -> tuple[int, int]:
    doublings = math.log2(n_steps_per_bar / 2) if n_steps_per_bar >= 4 else -1
    if doublings < 1 or doublings != int(doublings):
        raise KerasMusicError(
            f"the bar generator doubles 2 time steps: n_steps_per_bar must be 4, 8, 16, 32, "
            f"... (the seed uses 16), got {n_steps_per_bar}")
    if n_pitches < 12 or n_pitches % 12:
        raise KerasMusicError(f"the bar generator makes whole octaves: n_pitches must be a "
                              f"multiple of 12 (the seed uses 84), got {n_pitches}")
    return int(doublings), n_pitches // 12


def build_bar_generator(z_dim: int, n_steps_per_bar: int, n_pitches: int,
                        weight_init=None, *, synchronized_bn: bool = False,
                        n_inputs: int = 4, n_tracks: int = 1,
                        patch_convs: bool = True, extra_inputs: int = 0,
                        given_tracks: int = 0) -> keras.Model:
    """A (batch, n_inputs z_dim) vector -> one bar, (batch, 1, steps, pitches, n_tracks).

    The seed's bar generator takes 4 vectors (chords, style, melody, groove) and makes
    one track; the jamming mode feeds it 2 (melody, groove), the composer mode 2
    (chords, style) and asks for every track at once.

    ``Dense(1024)`` reshaped to (2, 1, 512); transposed convolutions double the time
    axis (512, 256, 256 filters for 16 steps), then widen the pitch axis by
    ``n_pitches / 12`` (256 filters, (1, 7) for 84 pitches) and by 12 (1 filter,
    tanh). Each layer but the last has ``BatchNormalization(momentum=0.9)`` and ReLU.
    Every transposed convolution strides by its kernel, so with ``patch_convs`` (the
    default) each is one matrix product (same weights and outputs as Keras' layer).
    ``extra_inputs`` widens the input by that many values (the track-conditional
    generator's code of the given tracks' bar). ``given_tracks`` > 0 adds a second
    input, the given tracks' bar (batch, steps, pitches, given_tracks), read step by
    step: each step's pitches through a 64-filter layer joined to the time-resolved
    layer before the pitch axis widens, and each step's pitch classes
    (:class:`OctavePitchClasses`) joined to the octave-wide layer before the last, so
    the generated track can follow the given one note by note.

    Raises:
        KerasMusicError: ``n_steps_per_bar`` is not 2 x a power of two (>= 4) or
            ``n_pitches`` is not a multiple of 12.
    """
    doublings, octaves = _check_bar_shape(n_steps_per_bar, n_pitches)
    layers = keras.layers
    init = _init(weight_init)
    conv_transpose, _ = _conv_layers(patch_convs)

    def up(x, filters, kernel):
        x = conv_transpose(filters, kernel, padding="same", strides=kernel,
                           kernel_initializer=init)(x)
        x = _batch_norm(synchronized_bn)(x)
        return layers.Activation("relu")(x)

    z = keras.Input((n_inputs * z_dim + extra_inputs,), name="bar_generator_input")
    x = layers.Dense(1024)(z)
    x = _batch_norm(synchronized_bn)(x)
    x = layers.Activation("relu")(x)
    x = layers.Reshape((2, 1, 512))(x)
    for i in range(doublings):
        x = up(x, 512 if i == 0 else 256, (2, 1))
    if given_tracks:
        given = keras.Input((n_steps_per_bar, n_pitches, given_tracks), name="given_bar")
        conv = PatchConv2D if patch_convs else layers.Conv2D
        steps = conv(64, (1, n_pitches), strides=(1, n_pitches), kernel_initializer=init)(given)
        x = layers.Concatenate()([x, layers.LeakyReLU()(steps)])
    x = up(x, 256, (1, octaves))
    if given_tracks:
        x = layers.Concatenate()([x, OctavePitchClasses(octaves)(given)])
    x = conv_transpose(n_tracks, (1, 12), padding="same", strides=(1, 12),
                       kernel_initializer=init)(x)
    x = layers.Activation("tanh")(x)
    bar = layers.Reshape((1, n_steps_per_bar, n_pitches, n_tracks))(x)
    return keras.Model([z, given] if given_tracks else z, bar, name="bar_generator")


@register
class NoteOnsets(keras.layers.Layer):
    """Rolls (batch, bars, steps, pitches, tracks) in -1 / 1 -> note onsets per step and
    track, (batch, bars, steps, 1, tracks).

    With a cell's loudness ``h = (x + 1) / 2``, the onsets at step t are
    ``sum over pitches of max(h[t] - h[t-1], 0)`` with time running on across the bars
    (before the first step: silence). A held note counts once, at its start; a voice
    moving to a new pitch counts one onset, where MuseGAN's own code (its signed sum of
    the differences, the "onset/offset stream") would count 0 for such legato steps.
    """

    def call(self, rolls):
        bars, steps, pitches, tracks = rolls.shape[1:]
        h = (ops.reshape(rolls, (-1, bars * steps, pitches, tracks)) + 1.0) * 0.5
        before = ops.pad(h[:, :-1], ((0, 0), (1, 0), (0, 0), (0, 0)))
        onsets = ops.sum(ops.relu(h - before), axis=2, keepdims=True)
        return ops.reshape(onsets, (-1, bars, steps, 1, tracks))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 1, input_shape[4])


def _time_layers(conv3d, x, filters: Sequence[int], init):
    """The critic's four time layers ((1,2,1), (1,2,1), (1,4,1), (1,3,1), strided by 2)."""
    for f, kernel, strides in zip(filters, ((1, 2, 1), (1, 2, 1), (1, 4, 1), (1, 3, 1)),
                                  ((1, 2, 1), (1, 2, 1), (1, 2, 1), (1, 2, 1))):
        x = conv3d(f, kernel, strides=strides, padding="same", kernel_initializer=init)(x)
        x = keras.layers.LeakyReLU()(x)
    return x


def build_critic(input_dim, weight_init=None, n_bars: int | None = None, *,
                 patch_convs: bool = True, onset_stream: bool = False) -> keras.Model:
    """A piano roll (batch, n_bars, steps, pitches, tracks) -> a WGAN critic score (batch, 1).

    Conv3D + LeakyReLU, no normalisation (a gradient penalty needs none): 128 (2,1,1)
    valid; 64 (n_bars-1,1,1) valid; 64 (1,1,12) and (1,1,n_pitches/12) strided over
    pitch (the seed's (1,1,7) for 84 pitches; a whole octave count for others); 64
    (1,2,1) twice, 128 (1,4,1) and 256 (1,3,1) strided by 2 over time; Flatten;
    Dense 512 + LeakyReLU; Dense 1.

    Args:
        input_dim: (n_bars, n_steps_per_bar, n_pitches, n_tracks).
        weight_init: kernel initializer (default: normal, stddev 0.02).
        n_bars: bars (default ``input_dim[0]``; at least 2).
        patch_convs: compute the convolutions whose patches do not overlap (all but
            the last two) as one matrix product each (same weights and outputs as
            ``Conv3D``); False: Keras' own layers.
        onset_stream: add a second stream that reads only the note onsets of each
            track (:class:`NoteOnsets`) through the four time layers with 16, 16, 32
            and 64 filters, flattened beside the main stream before the Dense layer
            (after MuseGAN's later "onset/offset stream"): the critic then sees
            directly how often each voice starts a note, which is where generated
            voices differ most from real ones (fragmented notes, low QN).
    """
    input_dim = tuple(int(d) for d in input_dim)
    if len(input_dim) != 4:
        raise KerasMusicError(f"input_dim must be (n_bars, n_steps_per_bar, n_pitches, "
                              f"n_tracks), got {input_dim}")
    n_bars = n_bars or input_dim[0]
    if n_bars < 2 or n_bars != input_dim[0]:
        raise KerasMusicError(f"the critic needs n_bars >= 2 matching input_dim[0]; got "
                              f"n_bars={n_bars}, input_dim={input_dim}")
    layers = keras.layers
    init = _init(weight_init)
    _, conv3d = _conv_layers(patch_convs)
    # The seed's (1, 1, 7) spans the 7 octaves of 84 pitches; other ranges get theirs.
    octaves = max(1, input_dim[2] // 12)
    roll = keras.Input(input_dim, name="critic_input")
    x = roll
    for filters, kernel, strides, padding in (
        (128, (2, 1, 1), (1, 1, 1), "valid"),
        (64, (n_bars - 1, 1, 1), (1, 1, 1), "valid"),
        (64, (1, 1, 12), (1, 1, 12), "same"),
        (64, (1, 1, octaves), (1, 1, octaves), "same"),
    ):
        x = conv3d(filters, kernel, strides=strides, padding=padding,
                   kernel_initializer=init)(x)
        x = layers.LeakyReLU()(x)
    x = layers.Flatten()(_time_layers(conv3d, x, (64, 64, 128, 256), init))
    if onset_stream:
        onsets = _time_layers(conv3d, NoteOnsets(name="note_onsets")(roll), (16, 16, 32, 64),
                              init)
        x = layers.Concatenate()([x, layers.Flatten()(onsets)])
    x = layers.Dense(512, kernel_initializer=init)(x)
    x = layers.LeakyReLU()(x)
    score = layers.Dense(1, kernel_initializer=init, name="score")(x)
    return keras.Model(roll, score, name="critic")


def build_track_encoder(n_steps_per_bar: int, n_pitches: int, n_given: int = 1,
                        code_dim: int = 32, weight_init=None, *,
                        patch_convs: bool = True) -> keras.Model:
    """One bar of the given track(s), (batch, steps, pitches, n_given) -> a code (batch, code_dim).

    The track-conditional MuseGAN's encoder: the critic's pitch and time layers in 2-D
    (64 filters (1, 12) and (1, n_pitches / 12) strided over pitch, then 128 filters
    (2, 1) halving time down to one step, each with LeakyReLU), a Dense layer to
    ``code_dim`` and LeakyReLU.
    """
    doublings, octaves = _check_bar_shape(n_steps_per_bar, n_pitches)
    layers = keras.layers
    init = _init(weight_init)
    conv = PatchConv2D if patch_convs else layers.Conv2D
    bar = keras.Input((n_steps_per_bar, n_pitches, n_given), name="given_bar")
    x = bar
    kernels = [(64, (1, 12)), (64, (1, octaves))] + [(128, (2, 1))] * (doublings + 1)
    for filters, kernel in kernels:
        x = conv(filters, kernel, strides=kernel, padding="same", kernel_initializer=init)(x)
        x = layers.LeakyReLU()(x)
    x = layers.Flatten()(x)
    code = layers.LeakyReLU()(layers.Dense(code_dim, kernel_initializer=init)(x))
    return keras.Model(bar, code, name="track_encoder")


GENERATOR_MODES = {"hybrid": ("chords", "style", "melody", "groove"),
                   "jamming": ("melody", "groove"), "composer": ("chords", "style")}


def build_generator_network(z_dim: int = 32, n_tracks: int = 4, n_bars: int = 2,
                            n_steps_per_bar: int = 16, n_pitches: int = 84,
                            weight_init=None, *, synchronized_bn: bool = False,
                            mode: str = "hybrid", patch_convs: bool = True,
                            condition_tracks: Sequence[int] = ()) -> keras.Model:
    """The MuseGAN generator: noise vectors -> piano rolls (batch, bars, steps, pitches, tracks).

    ``chords`` and ``style`` (batch, z_dim) are inter-track vectors, ``melody`` and
    ``groove`` (batch, n_tracks, z_dim) intra-track ones, a vector per track.
    ``chords`` and ``melody`` go through temporal networks (a vector per bar);
    ``style`` and ``groove`` stay the same over bars. The modes of the seed:

    - ``"hybrid"`` (inputs chords, style, melody, groove): a bar generator per track;
      for bar b and track t it gets ``concat(chords[b], style, melody[t][b], groove[t])``.
    - ``"jamming"`` (inputs melody, groove): musicians improvising independently, a
      generator per track fed only its own ``concat(melody[t][b], groove[t])``.
    - ``"composer"`` (inputs chords, style): one generator makes every track of bar b
      from ``concat(chords[b], style)``.

    Output values are in [-1, 1] (tanh). ``GENERATOR_MODES[mode]`` lists the inputs.
    ``patch_convs``: see :func:`build_bar_generator`.

    ``condition_tracks`` makes the track-conditional generator of the MuseGAN paper
    (accompaniment): a last input ``condition`` (batch, n_bars, steps, pitches,
    len(condition_tracks)) holds given tracks (values -1 / 1), which come out
    unchanged at their places in the output; each bar of them goes through a
    :func:`build_track_encoder` and its code joins every generated track's bar
    generator input, and every bar generator also reads the given bar step by step
    (:func:`build_bar_generator`'s ``given_tracks``). The rows of ``melody`` and
    ``groove`` of given tracks are unused.
    Hybrid and jamming modes only.
    """
    if mode not in GENERATOR_MODES:
        raise KerasMusicError(f"mode must be one of {sorted(GENERATOR_MODES)}, got {mode!r}")
    _check_bar_shape(n_steps_per_bar, n_pitches)
    given = _given_tracks(condition_tracks, n_tracks)
    if given and mode == "composer":
        raise KerasMusicError("condition_tracks needs a generator per track: mode 'hybrid' "
                              "or 'jamming', not 'composer'")
    if mode == "composer":
        return _composer_generator(z_dim, n_tracks, n_bars, n_steps_per_bar, n_pitches,
                                   weight_init, synchronized_bn, patch_convs)
    layers = keras.layers
    jamming = mode == "jamming"
    chords = keras.Input((z_dim,), name="chords")
    style = keras.Input((z_dim,), name="style")
    melody = keras.Input((n_tracks, z_dim), name="melody")
    groove = keras.Input((n_tracks, z_dim), name="groove")

    chords_bars = None
    if not jamming:
        chords_over_bars = build_temporal_network(z_dim, n_bars, weight_init,
                                                  synchronized_bn=synchronized_bn,
                                                  patch_convs=patch_convs)
        chords_over_bars.name = "chords_temporal"
        chords_bars = chords_over_bars(chords)
    condition = encoder = None
    if given:
        condition = keras.Input((n_bars, n_steps_per_bar, n_pitches, len(given)),
                                name="condition")
        encoder = build_track_encoder(n_steps_per_bar, n_pitches, len(given), z_dim,
                                      weight_init, patch_convs=patch_convs)
    melody_bars, grooves, bar_generators = {}, {}, {}
    for t in (t for t in range(n_tracks) if t not in given):
        temporal = build_temporal_network(z_dim, n_bars, weight_init,
                                          synchronized_bn=synchronized_bn,
                                          patch_convs=patch_convs)
        temporal.name = f"melody_temporal_{t}"
        melody_bars[t] = temporal(TakeIndex(t, name=f"melody_track_{t}")(melody))
        grooves[t] = TakeIndex(t, name=f"groove_track_{t}")(groove)
        generator = build_bar_generator(z_dim, n_steps_per_bar, n_pitches, weight_init,
                                        synchronized_bn=synchronized_bn,
                                        n_inputs=2 if jamming else 4, patch_convs=patch_convs,
                                        extra_inputs=z_dim if given else 0,
                                        given_tracks=len(given))
        generator.name = f"bar_generator_{t}"
        bar_generators[t] = generator

    bars = []
    for b in range(n_bars):
        shared = [] if jamming else [TakeIndex(b, name=f"chords_bar_{b}")(chords_bars), style]
        if given:
            given_bar = TakeIndex(b, name=f"condition_bar_{b}")(condition)
            shared.append(encoder(given_bar))
        tracks = []
        for t in range(n_tracks):
            if t in given:
                k = given.index(t)
                track = TakeIndex(k, axis=-1, name=f"given_track_{t}_bar_{b}")(given_bar)
                tracks.append(layers.Reshape((1, n_steps_per_bar, n_pitches, 1),
                                             name=f"given_{t}_bar_{b}")(track))
                continue
            melody_tb = TakeIndex(b, name=f"melody_track_{t}_bar_{b}")(melody_bars[t])
            z = layers.Concatenate(name=f"z_track_{t}_bar_{b}")(
                [*shared, melody_tb, grooves[t]])
            tracks.append(bar_generators[t]([z, given_bar] if given else z))
        bars.append(layers.Concatenate(axis=-1, name=f"bar_{b}")(tracks) if n_tracks > 1
                    else tracks[0])
    rolls = layers.Concatenate(axis=1, name="rolls")(bars) if n_bars > 1 else bars[0]
    inputs = [melody, groove] if jamming else [chords, style, melody, groove]
    if given:
        return keras.Model([*inputs, condition], rolls,
                           name=f"musegan_{mode}_accompaniment_generator")
    return keras.Model(inputs, rolls, name=f"musegan_{mode}_generator")


def _given_tracks(condition_tracks: Sequence[int], n_tracks: int) -> list[int]:
    given = sorted({int(t) for t in condition_tracks})
    if any(not 0 <= t < n_tracks for t in given):
        raise KerasMusicError(f"condition_tracks {list(condition_tracks)} must be track "
                              f"numbers 0..{n_tracks - 1}")
    if len(given) == n_tracks:
        raise KerasMusicError("condition_tracks gives every track: nothing left to generate")
    return given


def _composer_generator(z_dim, n_tracks, n_bars, n_steps_per_bar, n_pitches, weight_init,
                        synchronized_bn, patch_convs) -> keras.Model:
    layers = keras.layers
    chords = keras.Input((z_dim,), name="chords")
    style = keras.Input((z_dim,), name="style")
    temporal = build_temporal_network(z_dim, n_bars, weight_init,
                                      synchronized_bn=synchronized_bn, patch_convs=patch_convs)
    temporal.name = "chords_temporal"
    chords_bars = temporal(chords)
    generator = build_bar_generator(z_dim, n_steps_per_bar, n_pitches, weight_init,
                                    synchronized_bn=synchronized_bn, n_inputs=2,
                                    n_tracks=n_tracks, patch_convs=patch_convs)
    generator.name = "bar_generator"
    bars = [generator(layers.Concatenate(name=f"z_bar_{b}")(
        [TakeIndex(b, name=f"chords_bar_{b}")(chords_bars), style])) for b in range(n_bars)]
    rolls = layers.Concatenate(axis=1, name="rolls")(bars) if n_bars > 1 else bars[0]
    return keras.Model([chords, style], rolls, name="musegan_composer_generator")
