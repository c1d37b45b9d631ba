"""JSON files: atomic writes, and get_config / from_config / save / load of the encodings."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kerasmusic.data.config_schema import Kind, build_from_config, load_config


def write_json_atomic(target: str | os.PathLike, data: Any, **dump_kwargs: Any) -> None:
    """Write ``data`` as JSON to ``target`` through a temporary file and a rename.

    A reader (or a crash) never sees half a file: ``target`` is the old file or the
    new one. The folder is created. ``dump_kwargs`` go to ``json.dump``.
    """
    write_bytes_atomic(target, json.dumps(data, **dump_kwargs).encode("utf-8"))


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename (see
    :func:`write_json_atomic`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


class JsonConfigMixin:
    """``save`` / ``load`` / ``from_config`` for a class with ``get_config()``.

    The class names its config ``CONFIG_TYPE`` (stored as ``"type"``), describes
    itself in errors with ``CONFIG_NAME`` and lists its fields in ``CONFIG_SCHEMA``
    (field -> (kind, required), see :mod:`kerasmusic.data.config_schema`); every field
    is an argument of its constructor. JSON only: nothing a file holds can run code.
    """

    CONFIG_TYPE: ClassVar[str]
    CONFIG_NAME: ClassVar[str]
    CONFIG_SCHEMA: ClassVar[Mapping[str, tuple[Kind, bool]]]

    @classmethod
    def from_config(cls, config: dict) -> Any:
        """Inverse of ``get_config``.

        Raises:
            EncodingFileError: a field is missing, of the wrong type or out of range.
        """
        return build_from_config(
            config, cls.CONFIG_SCHEMA, cls.CONFIG_TYPE, cls.CONFIG_NAME,
            lambda c: cls(**{k: v for k, v in c.items() if k != "type"}))

    def save(self, path: str | os.PathLike) -> None:
        """Write the encoding as UTF-8 JSON (non-ASCII text, e.g. Chinese, stays readable)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Read an encoding written by :meth:`save` (EncodingFileError naming the file)."""
        return load_config(path, cls.from_config)
