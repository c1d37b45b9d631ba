"""Model builders and the registered layers they use.

Importing this package registers every kerasmusic layer with Keras
(``register_keras_serializable(package="kerasmusic")``), so a saved model loads with
``safe_mode=True``, through :func:`kerasmusic.load_model` or ``keras.saving.load_model``.
"""

from kerasmusic.models import (  # noqa: F401  (imported for their registered layers)
    attention_lstm,
    char_rnn,
    crnngan_recurrent,
    event_lstm,
    joint_keys,
    layers,
    musegan,
    music_transformer,
    patch_conv,
    pianoroll_rnn,
)
