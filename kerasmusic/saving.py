"""Saving and loading models with their encoding beside them.

Three formats, chosen by the path:

- ``model.keras``: the native Keras format;
- ``model.h5``: legacy HDF5, which many users still ask for;
- any other path (a directory): a TensorFlow SavedModel made with
  ``model.export``. It is for serving: ``tf.saved_model.load(path).serve(...)``
  reads it in any Python with TensorFlow, kerasmusic not needed.

The encoding (vocabularies, window length) goes to ``<stem>.encoding.json`` next
to a ``.keras``/``.h5`` file, or to ``encoding.json`` inside a SavedModel
directory. Loading always uses ``safe_mode=True``: no file can run code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras

from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import ModelFileError, VocabularyMismatchError
from kerasmusic.models.attention_lstm import check_encoding

Encoding = NoteDurationEncoding | ToneEncoding | ScaledTokenEncoding
_ENCODINGS = {"note_duration": NoteDurationEncoding, "tones": ToneEncoding,
              "scaled_tokens": ScaledTokenEncoding}


def _check(model: keras.Model, encoding: Encoding) -> None:
    """Check an encoding against its model where the model's shape says enough."""
    if isinstance(encoding, NoteDurationEncoding):
        check_encoding(model, encoding)
    elif model.outputs and model.outputs[0].shape[-1] != encoding.n_features:
        raise VocabularyMismatchError(
            f"the model outputs {model.outputs[0].shape[-1]} values per step, the tone "
            f"encoding has {encoding.n_features}: not the encoding it was trained with")


_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def encoding_path(path: str | os.PathLike) -> Path:
    """Where the encoding of the model saved at ``path`` is kept."""
    path = Path(path)
    if path.suffix in _KERAS_SUFFIXES:
        return path.with_name(path.stem + ".encoding.json")
    return path / "encoding.json"


def save_model(
    model: keras.Model, path: str | os.PathLike, encoding: Encoding | None = None
) -> Path:
    """Save ``model`` (and ``encoding`` beside it) as ``.keras``, ``.h5`` or a SavedModel dir.

    Returns:
        The path of the written encoding file, or of the model when no encoding is given.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding is not None:
        _check(model, encoding)
    if path.suffix in _KERAS_SUFFIXES:
        model.save(path)
    else:
        model.export(str(path), verbose=False)
    if encoding is None:
        return path
    encoding.save(encoding_path(path))
    return encoding_path(path)


def load_encoding(path: str | os.PathLike) -> Encoding:
    """The encoding saved beside (or inside) the model at ``path``, of whichever kind."""
    enc_path = encoding_path(path)
    if not enc_path.exists():
        raise ModelFileError(f"{os.fspath(path)}: no encoding file at {enc_path}")
    try:
        kind = json.loads(enc_path.read_text(encoding="utf-8")).get("type")
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{enc_path}: not a readable encoding file ({exc})") from exc
    if kind not in _ENCODINGS:
        raise ModelFileError(f"{enc_path}: unknown encoding type {kind!r}")
    return _ENCODINGS[kind].load(enc_path)


def load_model(
    path: str | os.PathLike,
    encoding: Encoding | None = None,
    *,
    compile: bool = True,
) -> keras.Model:
    """Load a ``.keras`` or ``.h5`` model with ``safe_mode=True``.

    The encoding passed in, or else the one saved beside the model, is checked
    against the model; a mismatch raises VocabularyMismatchError.

    Args:
        path: a ``.keras`` or ``.h5`` file.
        encoding: the encoding you mean to use with the model.
        compile: restore the training configuration too.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(
            f"{path}: a SavedModel directory is for serving; read it with "
            "tf.saved_model.load(path) or keras.layers.TFSMLayer(path, call_endpoint='serve')"
        )
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.suffix not in _KERAS_SUFFIXES:
        raise ModelFileError(f"{path}: not a .keras or .h5 model file")
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: cannot be loaded as a Keras model ({exc})") from exc
    if encoding is None and encoding_path(path).exists():
        encoding = load_encoding(path)
    if encoding is not None:
        _check(model, encoding)
    return model
