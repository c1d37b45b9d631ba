"""Saving and loading models with their encoding beside them.

Three formats, chosen by the path:

- ``model.keras``: the native Keras format;
- ``model.h5``: legacy HDF5, which many users still ask for;
- any other path (a directory): a TensorFlow SavedModel made with
  ``model.export``. It is for serving: ``tf.saved_model.load(path).serve(...)``
  reads it in any Python with TensorFlow, kerasmusic not needed.

The encoding (vocabularies, window length) goes to ``<stem>.encoding.json`` next
to a ``.keras``/``.h5`` file, or to ``encoding.json`` inside a SavedModel
directory. A copy is also stored inside ``.keras`` and ``.h5`` files, so a model
always knows its own vocabulary: loading it with any other encoding, even one of
the same size, is an error. Loading always uses ``safe_mode=True``: no file can
run code.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import h5py
import keras

# Registers every kerasmusic layer with Keras before any model is loaded (safe_mode=True
# finds custom layers only in Keras' registry).
import kerasmusic.models  # noqa: F401
from kerasmusic.data.events import EventEncoding
from kerasmusic.data.frames import FrameEncoding
from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.data.text import CharEncoding
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import ModelFileError, VocabularyMismatchError
from kerasmusic.models.attention_lstm import check_encoding

Encoding = NoteDurationEncoding | ToneEncoding | ScaledTokenEncoding | MultiTrackPianoRoll
_ENCODINGS = {"note_duration": NoteDurationEncoding, "tones": ToneEncoding,
              "scaled_tokens": ScaledTokenEncoding, "pianoroll": MultiTrackPianoRoll}
_ENCODINGS.update(frames=FrameEncoding, events=EventEncoding)
_ENCODINGS.update(chars=CharEncoding)


def _check(model: keras.Model, encoding: Encoding) -> None:
    """Check an encoding against its model where the model's shape says enough."""
    if hasattr(encoding, "check_model"):
        encoding.check_model(model)
    elif isinstance(encoding, NoteDurationEncoding):
        check_encoding(model, encoding)
    elif isinstance(encoding, MultiTrackPianoRoll):
        shape = tuple(model.outputs[0].shape[1:])
        if shape != encoding.shape:
            raise VocabularyMismatchError(
                f"the model makes phrases of shape {shape}, the piano-roll encoding "
                f"{encoding.shape}: not the encoding it was trained with")
    elif model.outputs and model.outputs[0].shape[-1] != encoding.n_features:
        raise VocabularyMismatchError(
            f"the model outputs {model.outputs[0].shape[-1]} values per step, the tone "
            f"encoding has {encoding.n_features}: not the encoding it was trained with")


_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_EMBEDDED = "kerasmusic_encoding"


def _embed(path: Path, encoding: Encoding) -> None:
    """Store the encoding inside the saved model file (Keras ignores the extra entry)."""
    text = json.dumps(encoding.get_config())
    if path.suffix == ".keras":
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(f"{_EMBEDDED}.json", text)
    else:
        with h5py.File(path, "a") as f:
            f.attrs[_EMBEDDED] = text


def _embedded(path: Path) -> dict | None:
    """The encoding config stored inside a model file, if any."""
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read(f"{_EMBEDDED}.json"))
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs[_EMBEDDED]) if _EMBEDDED in f.attrs else None
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None


def _from_config(config: dict, where) -> Encoding:
    kind = config.get("type") if isinstance(config, dict) else None
    if kind not in _ENCODINGS:
        raise ModelFileError(f"{where}: unknown encoding type {kind!r}")
    return _ENCODINGS[kind].from_config(config)


def encoding_path(path: str | os.PathLike) -> Path:
    """Where the encoding of the model saved at ``path`` is kept."""
    path = Path(path)
    if path.suffix in _KERAS_SUFFIXES:
        return path.with_name(path.stem + ".encoding.json")
    return path / "encoding.json"


def quality_path(path: str | os.PathLike) -> Path:
    """Where the held-out quality report of the model saved at ``path`` is kept."""
    path = Path(path)
    if path.suffix in _KERAS_SUFFIXES:
        return path.with_name(path.stem + ".quality.json")
    return path / "quality.json"


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
        if encoding is not None:
            _embed(path, encoding)
    else:
        model.export(str(path), verbose=False)
    if encoding is None:
        return path
    encoding.save(encoding_path(path))
    return encoding_path(path)


def load_encoding(path: str | os.PathLike) -> Encoding:
    """The encoding of the model at ``path``: the copy inside the file, else the one beside."""
    path = Path(path)
    if path.suffix in _KERAS_SUFFIXES and (inside := _embedded(path)) is not None:
        return _from_config(inside, path)
    enc_path = encoding_path(path)
    if not enc_path.exists():
        raise ModelFileError(f"{os.fspath(path)}: no encoding file at {enc_path}")
    try:
        config = json.loads(enc_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{enc_path}: not a readable encoding file ({exc})") from exc
    return _from_config(config, enc_path)


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
    inside = _embedded(path)
    if encoding is None and encoding_path(path).exists():
        try:
            encoding = _from_config(json.loads(encoding_path(path).read_text("utf-8")), path)
        except ValueError as exc:
            raise ModelFileError(f"{encoding_path(path)}: not a readable encoding ({exc})") \
                from exc
    if encoding is not None:
        # Compared as read back, so a file written before an option existed (its key
        # absent, its default meant) still matches.
        if inside is not None and encoding.get_config() != _from_config(inside, path).get_config():
            raise VocabularyMismatchError(
                f"{path}: the encoding given (or the one in {encoding_path(path).name}) is not "
                "the one this model was saved with; load_encoding(path) returns the right one")
        _check(model, encoding)
    return model
