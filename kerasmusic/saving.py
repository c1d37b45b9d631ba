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
from kerasmusic.data.config_schema import load_config
from kerasmusic.data.events import EventEncoding
from kerasmusic.data.frames import FrameEncoding
from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.remi import RemiEncoding
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.data.text import CharEncoding
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import EncodingFileError, ModelFileError, VocabularyMismatchError
from kerasmusic.models.attention_lstm import check_encoding

Encoding = NoteDurationEncoding | ToneEncoding | ScaledTokenEncoding | MultiTrackPianoRoll
_ENCODINGS = {"note_duration": NoteDurationEncoding, "tones": ToneEncoding,
              "scaled_tokens": ScaledTokenEncoding, "pianoroll": MultiTrackPianoRoll}
_ENCODINGS.update(frames=FrameEncoding, events=EventEncoding)
_ENCODINGS.update(chars=CharEncoding, remi=RemiEncoding)


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


def _embedded_where(path: Path) -> str:
    """How errors name the encoding stored inside the model file ``path``."""
    return f"{path} (the encoding stored inside it)"


def _embedded(path: Path) -> dict | None:
    """The encoding config stored inside a model file, if any (None also for a file
    that cannot be opened: loading the model reports that).

    Raises:
        EncodingFileError: the stored copy is there but is not JSON.
    """
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                if f"{_EMBEDDED}.json" not in archive.namelist():
                    return None
                text = archive.read(f"{_EMBEDDED}.json")
        else:
            with h5py.File(path, "r") as f:
                if _EMBEDDED not in f.attrs:
                    return None
                text = f.attrs[_EMBEDDED]
    except (KeyError, OSError, EOFError, zipfile.BadZipFile):
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EncodingFileError(_embedded_where(path), f"not JSON ({exc})") from exc


def _from_config(config, where) -> Encoding:
    """Build the encoding ``config`` describes; every problem an EncodingFileError naming
    ``where`` (the file) and the field."""
    kind = config.get("type") if isinstance(config, dict) else None
    if kind not in _ENCODINGS:
        shown = kind if isinstance(config, dict) else type(config).__name__
        raise EncodingFileError(where, f"unknown encoding type {shown!r} (one of "
                                       f"{sorted(_ENCODINGS)})", "type")
    try:
        return _ENCODINGS[kind].from_config(config)
    except EncodingFileError as exc:
        raise exc.at(where) from exc


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
    """The encoding of the model at ``path``: the copy inside the file, else the one beside.

    Raises:
        ModelFileError: there is no encoding.
        EncodingFileError: the encoding is not JSON or does not fit its schema (the
            message names the file and the field).
    """
    path = Path(path)
    if path.suffix in _KERAS_SUFFIXES and (inside := _embedded(path)) is not None:
        return _from_config(inside, _embedded_where(path))
    enc_path = encoding_path(path)
    if not enc_path.exists():
        raise ModelFileError(f"{os.fspath(path)}: no encoding file at {enc_path}")
    return _read_beside(enc_path)


def _read_beside(enc_path: Path) -> Encoding:
    return load_config(enc_path, lambda config: _from_config(config, enc_path))


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
    model = _load_keras(path, compile)
    inside = _embedded(path)
    given = encoding is not None
    if not given and encoding_path(path).exists():
        encoding = _read_beside(encoding_path(path))
    if encoding is not None:
        source = "the encoding given" if given else f"the encoding in {encoding_path(path)}"
        # Compared as read back, so a file written before an option existed (its key
        # absent, its default meant) still matches.
        if inside is not None and encoding.get_config() != \
                _from_config(inside, _embedded_where(path)).get_config():
            raise VocabularyMismatchError(
                f"{path}: {source} is not the one this model was saved with; "
                "load_encoding(path) returns the right one")
        try:
            _check(model, encoding)
        except VocabularyMismatchError as exc:
            raise VocabularyMismatchError(f"{path} with {source}: {exc}") from exc
    return model


def _load_keras(path: Path, compile: bool) -> keras.Model:
    """``keras.saving.load_model`` (safe mode), a damaged file reported as damaged: Keras
    calls a ``.keras`` file that is not a whole zip archive "File not found"."""
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a .keras model (not a zip archive: truncated, "
                             "damaged or another kind of file)")
    if path.suffix != ".keras" and not h5py.is_hdf5(path):
        raise ModelFileError(f"{path}: not an HDF5 model (truncated, damaged or another "
                             "kind of file)")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path}: cannot be loaded as a Keras model ({exc})") from exc
