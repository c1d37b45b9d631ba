"""The polyphonic piano-roll RNN (seed 000): LSTMs over 88-key frames, a sigmoid per key.

At every step the model reads a multi-hot frame and predicts, for each key
independently, the probability that it sounds in the next frame. Several keys can
be on at once, so the loss is a binary cross-entropy per key (averaged), not a
softmax over keys. With ``output="nade"`` or ``"made"`` the keys of the next frame
are modelled jointly instead (:mod:`kerasmusic.models.joint_keys`): the model also
reads the next frame and gives each key's probability given the keys below it.
"""

from __future__ import annotations

import keras

from kerasmusic.data.frames import PIANO_KEYS
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.joint_keys import JOINT_KEY_LAYERS
from kerasmusic.validation import check_learning_rate

OUTPUT_LAYER = "keys"
SKIP_LAYER = "skip"
#: The output layers :func:`build_pianoroll_rnn` can end with.
PIANOROLL_OUTPUTS = ("sigmoid", *JOINT_KEY_LAYERS)
NEXT_FRAMES_INPUT = "next_frames"


def reads_next_frames(model: keras.Model) -> bool:
    """True for a joint-keys model: it takes the next frames as a second input."""
    return len(model.inputs) == 2


def build_pianoroll_rnn(
    n_pitches: int = PIANO_KEYS,
    units: int = 256,
    n_layers: int = 2,
    dropout: float = 0.0,
    *,
    skip: bool = True,
    output: str = "sigmoid",
    joint_units: int | None = None,
    learning_rate: float = 0.001,
    clipnorm: float | None = 5.0,
) -> keras.Model:
    """Build and compile the piano-roll RNN.

    ``Input(None, n_pitches)`` -> ``n_layers`` x ``LSTM(units, return_sequences=True)``
    (each followed by ``Dropout(dropout)`` when dropout > 0) ->
    ``Dense(n_pitches, sigmoid, name="keys")``. Compiled with
    ``keras.losses.BinaryCrossentropy()`` and ``Adam(learning_rate, clipnorm)``.

    With ``skip`` (the default) the output layer also sees the input frame
    (``Concatenate(name="skip")([frames, lstm_output])``): most keys simply go on
    sounding from one frame to the next, and the plain stack takes several epochs on
    a plateau (predicting each key's average rate) before it learns that; with the
    skip it learns it in the first epoch. ``skip=False`` is the seed's plain stack.

    ``output="nade"`` (:class:`~kerasmusic.models.joint_keys.NadeKeys`, RNN-NADE) or
    ``output="made"`` (:class:`~kerasmusic.models.joint_keys.MadeKeys`, a masked
    autoencoder, nearly as fast to train as the sigmoid) replaces the Dense: the keys
    of a frame are then modelled jointly, each given the keys below it, and the model
    takes a second input, the next frames (``next_frames``, the targets, read key by
    key), as ``[frames, next_frames]``. Its outputs are still per-key probabilities of
    the next frame, so the same loss is the frame's exact NLL.

    Args:
        n_pitches: keys per frame (88 for A0..C8).
        units: units of each LSTM.
        n_layers: number of stacked LSTMs.
        dropout: dropout rate after each LSTM (0: none).
        skip: feed the input frame to the output layer too.
        output: ``"sigmoid"`` (independent keys), ``"nade"`` or ``"made"`` (joint keys).
        joint_units: hidden units of a joint-keys output (default 128 for NADE, 512
            for MADE).
        learning_rate: Adam learning rate.
        clipnorm: gradient norm clipping (None: none).

    Returns:
        A compiled functional model: frames (batch, time, n_pitches) (and, for NADE,
        the next frames of the same shape) -> probabilities (batch, time, n_pitches)
        that each key sounds in the next frame.

    Example:
    ```python
    model = km.build_pianoroll_rnn(units=32, n_layers=1)
    probs = model.predict(np.zeros((1, 16, 88), "float32"))  # (1, 16, 88)
    ```
    """
    if output not in PIANOROLL_OUTPUTS:
        raise KerasMusicError(f"build_pianoroll_rnn: output must be one of {PIANOROLL_OUTPUTS}, "
                              f"got {output!r}")
    for name, value in (("n_pitches", n_pitches), ("units", units), ("n_layers", n_layers),
                        ("joint_units", 1 if joint_units is None else joint_units)):
        if int(value) < 1:
            raise KerasMusicError(f"build_pianoroll_rnn: {name} must be a positive integer, "
                                  f"got {value}")
    if not 0 <= dropout < 1:
        raise KerasMusicError(f"build_pianoroll_rnn: dropout must be in [0, 1), got {dropout}")
    check_learning_rate("learning_rate", learning_rate)
    frames = keras.Input(shape=(None, n_pitches), name="frames")
    x = frames
    for i in range(n_layers):
        x = keras.layers.LSTM(units, return_sequences=True, name=f"lstm_{i + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    if skip:
        x = keras.layers.Concatenate(name=SKIP_LAYER)([frames, x])
    # float32 head under a mixed_float16 policy (a no-op otherwise).
    if output in JOINT_KEY_LAYERS:
        layer, default_units = JOINT_KEY_LAYERS[output]
        next_frames = keras.Input(shape=(None, n_pitches), name=NEXT_FRAMES_INPUT)
        keys = layer(n_pitches, joint_units or default_units, name=OUTPUT_LAYER,
                     dtype="float32")([x, next_frames])
        model = keras.Model([frames, next_frames], keys, name=f"pianoroll_rnn_{output}")
    else:
        keys = keras.layers.Dense(n_pitches, activation="sigmoid", name=OUTPUT_LAYER,
                                  dtype="float32")(x)
        model = keras.Model(frames, keys, name="pianoroll_rnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm),
                  loss=keras.losses.BinaryCrossentropy())
    return model
