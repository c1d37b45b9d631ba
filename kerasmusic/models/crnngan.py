"""C-RNN-GAN builders: the seed chapter's simplified generator and discriminator.

The simplified variant works on windows of ``seq_len`` note tokens scaled to
[-1, 1] (``seq_shape = (seq_len, 1)``): an MLP generator maps a latent vector to a
whole window; an LSTM + bidirectional LSTM discriminator scores a window as real.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from kerasmusic.errors import KerasMusicError


def _check_shape(seq_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(d) for d in seq_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise KerasMusicError(f"seq_shape must be (seq_len, features) with positive sizes, "
                              f"got {tuple(seq_shape)}")
    return shape


def build_generator(latent_dim: int, seq_shape: Sequence[int]) -> keras.Model:
    """The seed's MLP generator: latent vector -> a window of shape ``seq_shape`` in [-1, 1].

    ``Dense`` 256 / 512 / 1024, each followed by ``LeakyReLU(0.2)`` and
    ``BatchNormalization(momentum=0.8)``, then ``Dense(prod(seq_shape), tanh)``
    reshaped to ``seq_shape``. For ``latent_dim=1000, seq_shape=(100, 1)`` it has
    1,022,820 parameters.

    Args:
        latent_dim: size of the noise vector.
        seq_shape: (seq_len, features) of the generated window.
    """
    shape = _check_shape(seq_shape)
    if latent_dim < 1:
        raise KerasMusicError(f"latent_dim must be positive, got {latent_dim}")
    layers = keras.layers
    noise = keras.Input(shape=(latent_dim,), name="noise")
    x = noise
    for units in (256, 512, 1024):
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
    x = layers.Dense(int(np.prod(shape)), activation="tanh")(x)
    sequence = layers.Reshape(shape, name="sequence")(x)
    return keras.Model(noise, sequence, name="crnngan_generator")


def build_discriminator(seq_shape: Sequence[int]) -> keras.Model:
    """The seed's discriminator: a window -> probability that it is real.

    ``LSTM(512, return_sequences=True)`` -> ``Bidirectional(LSTM(512))`` ->
    ``Dense(512)`` + ``LeakyReLU(0.2)`` -> ``Dense(256)`` + ``LeakyReLU(0.2)`` ->
    ``Dense(1, sigmoid)``. For ``seq_shape=(100, 1)`` it has 5,907,457 parameters.

    Args:
        seq_shape: (seq_len, features) of the windows it judges.
    """
    shape = _check_shape(seq_shape)
    layers = keras.layers
    sequence = keras.Input(shape=shape, name="sequence")
    x = layers.LSTM(512, return_sequences=True)(sequence)
    x = layers.Bidirectional(layers.LSTM(512))(x)
    x = layers.Dense(512)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Dense(256)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    validity = layers.Dense(1, activation="sigmoid", name="validity")(x)
    return keras.Model(sequence, validity, name="crnngan_discriminator")
