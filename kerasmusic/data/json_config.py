"""JSON get_config / from_config / save / load shared by the library's encodings."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from kerasmusic.errors import KerasMusicError


class JsonConfigMixin:
    """``save`` / ``load`` / ``from_config`` for a class with ``get_config()``.

    The class names its config ``CONFIG_TYPE`` (stored as ``"type"``) and describes
    itself in errors with ``CONFIG_NAME``; every other config key is an argument of
    its constructor. JSON only: nothing a file holds can run code.
    """

    CONFIG_TYPE: ClassVar[str]
    CONFIG_NAME: ClassVar[str]

    @classmethod
    def from_config(cls, config: dict) -> Any:
        """Inverse of ``get_config``."""
        if config.get("type") != cls.CONFIG_TYPE:
            raise KerasMusicError(f"not {cls.CONFIG_NAME}: type {config.get('type')!r}")
        return cls(**{k: v for k, v in config.items() if k != "type"})

    def save(self, path: str | os.PathLike) -> None:
        """Write the encoding as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Read an encoding written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_config(json.load(f))
