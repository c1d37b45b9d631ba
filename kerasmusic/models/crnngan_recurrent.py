"""The C-RNN-GAN of the paper (Mogren 2016): recurrent generator and discriminator.

Generator: at each step the input is a uniform random vector concatenated with the
generator's own previous output; two LSTM layers (350 units) and a linear output
per step. The same weights also run *teacher-forced* (the previous real tone in place
of the previous output) for the paper's MLE pre-training: see
:func:`teacher_forced_generator`.

Discriminator: two bidirectional LSTM layers (350 units), a shared ``Dense(1,
sigmoid)`` at every step, the decision is the mean over time. Its second output is
the last hidden representation, used by feature matching.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasmusic.errors import KerasMusicError
from kerasmusic.models.layers import register

FEEDBACK_RNN = "feedback_rnn"


@register
class FeedbackLSTMCell(keras.layers.Layer):
    """Stacked LSTM cell whose input is [noise, previous tone] and whose output is a tone.

    The cell's input per step is ``concat(noise_t, teacher_t, use_teacher_t)``: the
    previous tone fed in is ``teacher_t`` where ``use_teacher_t`` is 1 and the cell's
    own previous output where it is 0.

    Args:
        units: units of each LSTM layer.
        n_layers: stacked LSTM layers.
        n_features: values per output step.
    """

    def __init__(self, units: int = 350, n_layers: int = 2, n_features: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.units, self.n_layers, self.n_features = int(units), int(n_layers), int(n_features)
        self.cells = [keras.layers.LSTMCell(self.units, name=f"lstm_cell_{i}")
                      for i in range(self.n_layers)]
        self.out = keras.layers.Dense(self.n_features, name="tone")
        self.state_size = [self.units] * (2 * self.n_layers) + [self.n_features]
        self.output_size = self.n_features

    def build(self, input_shape):
        noise_dim = input_shape[-1] - self.n_features - 1
        if noise_dim < 1:
            raise KerasMusicError("FeedbackLSTMCell input must be [noise, teacher, flag]")
        size = noise_dim + self.n_features
        for cell in self.cells:
            cell.build((None, size))
            size = self.units
        self.out.build((None, self.units))

    def call(self, inputs, states, training=False):
        noise_dim = inputs.shape[-1] - self.n_features - 1
        noise = inputs[:, :noise_dim]
        teacher = inputs[:, noise_dim:noise_dim + self.n_features]
        use_teacher = inputs[:, -1:]
        previous = use_teacher * teacher + (1.0 - use_teacher) * states[-1]
        x = ops.concatenate([noise, previous], axis=-1)
        new_states = []
        for i, cell in enumerate(self.cells):
            x, (h, c) = cell(x, [states[2 * i], states[2 * i + 1]], training=training)
            new_states += [h, c]
        y = self.out(x)
        return y, new_states + [y]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "n_layers": self.n_layers,
                "n_features": self.n_features}


@register
class AppendConstant(keras.layers.Layer):
    """Append ``size`` channels filled with ``value`` to a (batch, time, channels) tensor."""

    def __init__(self, size: int, value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.value = int(size), float(value)

    def call(self, x):
        shape = ops.shape(x)
        fill = ops.full((shape[0], shape[1], self.size), self.value, dtype=x.dtype)
        return ops.concatenate([x, fill], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "value": self.value}


def build_recurrent_generator(
    n_features: int = 4, noise_dim: int | None = None, units: int = 350, n_layers: int = 2
) -> keras.Model:
    """The paper's generator: noise (batch, time, noise_dim) -> tones (batch, time, n_features).

    Args:
        n_features: values per step (4 per tone; 12 for C-RNN-GAN-3).
        noise_dim: size of the uniform noise vector per step (default ``n_features``).
        units: units of each LSTM layer (the paper: 350).
        n_layers: LSTM layers (the paper: 2).
    """
    noise_dim = noise_dim or n_features
    noise = keras.Input((None, noise_dim), name="noise")
    free = AppendConstant(n_features + 1, 0.0, name="no_teacher")(noise)
    rnn = keras.layers.RNN(FeedbackLSTMCell(units, n_layers, n_features), return_sequences=True,
                           name=FEEDBACK_RNN)
    return keras.Model(noise, rnn(free), name="crnngan_recurrent_generator")


def teacher_forced_generator(generator: keras.Model) -> keras.Model:
    """A model sharing ``generator``'s weights that is fed the previous *real* tone.

    Inputs: ``noise`` (batch, time, noise_dim) and ``previous`` (batch, time,
    n_features), the real sequence shifted right by one step. Used for MLE
    pre-training and the MLE baseline.
    """
    rnn = generator.get_layer(FEEDBACK_RNN)
    n_features = rnn.cell.n_features
    noise = keras.Input((None, generator.input.shape[-1]), name="noise")
    previous = keras.Input((None, n_features), name="previous")
    x = keras.layers.Concatenate()([noise, previous])
    x = AppendConstant(1, 1.0, name="use_teacher")(x)
    return keras.Model([noise, previous], rnn(x), name="crnngan_teacher_forced")


def build_recurrent_discriminator(n_features: int = 4, units: int = 350,
                                  n_layers: int = 2) -> keras.Model:
    """The paper's discriminator: tones -> [decision (batch, 1), features (batch, time, 2u)].

    ``decision`` is the mean over time of a shared ``Dense(1, sigmoid)`` applied at
    every step; ``features`` is the last bidirectional layer's output, the
    representation that feature matching compares.
    """
    tones = keras.Input((None, n_features), name="tones")
    x = tones
    for i in range(n_layers):
        x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True),
                                       name=f"bilstm_{i + 1}")(x)
    features = keras.layers.Identity(name="features")(x)
    per_step = keras.layers.Dense(1, activation="sigmoid", name="per_step")(x)
    decision = keras.layers.GlobalAveragePooling1D(name="decision")(per_step)
    return keras.Model(tones, [decision, features], name="crnngan_recurrent_discriminator")
