"""The schemas of the encodings' JSON configs, checked before an encoding is built.

An encoding file is read from disk (beside a model, or inside it): anything can be in
it. :func:`build_from_config` checks every field's presence and type first, then builds
the encoding and turns whatever its constructor refuses into an
:class:`~kerasmusic.errors.EncodingFileError` naming the field, never a ``KeyError``
or ``TypeError`` from deep inside.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from kerasmusic.errors import EncodingFileError, KerasMusicError

T = TypeVar("T")

_LARGEST = 2**31 - 1  # no size, pitch or count an encoding holds comes near it
_FRACTION = re.compile(r"\s*-?\d{1,12}(\s*/\s*\d{1,12}|\.\d{1,12})?\s*")


class Kind(NamedTuple):
    """What a field may hold: a description for the message and a test."""

    description: str
    test: Callable[[Any], bool]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _LARGEST


def _is_fraction(value) -> bool:
    return _is_int(value) or (isinstance(value, str) and bool(_FRACTION.fullmatch(value)))


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _list_of(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(test(v) for v in value)


def _or_none(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or test(value)


def _is_vocabulary(value) -> bool:
    return (isinstance(value, dict) and _list_of(lambda t: isinstance(t, str))(value.get("tokens"))
            and isinstance(value.get("name", ""), str)
            and _or_none(lambda u: isinstance(u, str))(value.get("unknown")))


INT = Kind("a whole number", _is_int)
NUMBER = Kind("a finite number", _is_number)
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
STRING = Kind("a string", lambda v: isinstance(v, str))
STRINGS = Kind("a list of strings", _list_of(lambda v: isinstance(v, str)))
FRACTION = Kind('a number of quarter notes like "1/4"', _is_fraction)
FRACTIONS = Kind('a list of numbers of quarter notes like "1/4"', _list_of(_is_fraction))
TRACKS = Kind("null or a list of track numbers", _or_none(_list_of(_is_int)))
SELECTORS = Kind("a list of track numbers or names",
                 _list_of(lambda v: _is_int(v) or isinstance(v, str)))
VOCABULARY = Kind('a vocabulary (an object with a list of "tokens")', _is_vocabulary)


def or_none(kind: Kind) -> Kind:
    """``kind`` or null."""
    return Kind(f"null or {kind.description}", _or_none(kind.test))


def list_of(kind: Kind, plural: str) -> Kind:
    """A list whose items are all ``kind``; ``plural`` describes them (``"numbers"``)."""
    return Kind(f"a list of {plural}", _list_of(kind.test))


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_config(config: Any, schema: Mapping[str, tuple[Kind, bool]], config_type: str,
                 what: str) -> None:
    """Raise unless ``config`` is a dict of type ``config_type`` that fits ``schema``.

    Args:
        config: the parsed JSON.
        schema: field -> (kind, required); a field not listed is refused.
        config_type: the ``"type"`` the config must have.
        what: the encoding in words, e.g. ``"a frame encoding"``.

    Raises:
        EncodingFileError: naming the field (its ``path`` is None: the caller adds it).
    """
    if not isinstance(config, dict):
        raise EncodingFileError(None, f"{what} must be a JSON object, got {_shown(config)}")
    if config.get("type") != config_type:
        raise EncodingFileError(None, f"not {what}: type {config.get('type')!r}", "type")
    for name, (kind, required) in schema.items():
        if name not in config:
            if required:
                raise EncodingFileError(None, f"{what}: field {name!r} is missing "
                                              f"({kind.description})", name)
        elif not kind.test(config[name]):
            raise EncodingFileError(None, f"{what}: field {name!r} must be {kind.description}, "
                                          f"got {_shown(config[name])}", name)
    unknown = [name for name in config if name != "type" and name not in schema]
    if unknown:
        raise EncodingFileError(None, f"{what}: unknown field {unknown[0]!r}", unknown[0])


def build_from_config(config: Any, schema: Mapping[str, tuple[Kind, bool]], config_type: str,
                      what: str, build: Callable[[dict], T]) -> T:
    """:func:`check_config`, then ``build(config)``, its refusals as EncodingFileError.

    A value of the right type can still be out of range (``n_pitches: 0``, a duplicate
    token): the constructor's :class:`~kerasmusic.errors.KerasMusicError` (or
    ``ValueError``) comes out as an :class:`~kerasmusic.errors.EncodingFileError`.
    """
    check_config(config, schema, config_type, what)
    try:
        return build(config)
    except EncodingFileError:
        raise
    except (KerasMusicError, ValueError, TypeError, ArithmeticError) as exc:
        raise EncodingFileError(None, f"{what}: {exc}") from exc


def load_config(path, read: Callable[[dict], T]) -> T:
    """``read(the JSON in path)``, every problem an EncodingFileError naming ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as exc:
        raise EncodingFileError(path, f"not a readable encoding file ({exc})") from exc
    try:
        return read(config)
    except EncodingFileError as exc:
        raise exc.at(path) from exc
