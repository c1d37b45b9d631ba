"""Token vocabularies: a fixed, ordered list of string tokens and their ids."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence

from kerasmusic.errors import UnknownTokenError, VocabularyError


class Vocabulary:
    """An ordered list of unique string tokens; a token's id is its index.

    Args:
        tokens: the tokens, in id order. Duplicates are an error.
        name: what the vocabulary holds ("pitch", "duration", ...), used in errors.

    Example:
    ```python
    vocab = Vocabulary.from_sequences([["C4", "E4"], ["C4", "rest"]], specials=["<start>"])
    vocab.encode(["<start>", "C4"])  # -> [0, 1]
    ```
    """

    def __init__(self, tokens: Sequence[str], name: str = ""):
        self.tokens = list(tokens)
        self.name = name
        self._index = {t: i for i, t in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            dupes = sorted(t for t, c in Counter(self.tokens).items() if c > 1)
            raise VocabularyError(f"{name or 'vocabulary'}: duplicate tokens {dupes[:5]}")

    @classmethod
    def from_sequences(
        cls,
        sequences: Iterable[Iterable[str]],
        specials: Sequence[str] = (),
        name: str = "",
        sort_key=None,
    ) -> Vocabulary:
        """Build a vocabulary of ``specials`` followed by every token seen, sorted."""
        seen = {t for seq in sequences for t in seq} - set(specials)
        return cls(list(specials) + sorted(seen, key=sort_key), name=name)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"Vocabulary(name={self.name!r}, size={len(self)})"

    def id(self, token: str) -> int:
        """Id of ``token``; raises UnknownTokenError if it is not in the vocabulary."""
        try:
            return self._index[token]
        except KeyError:
            raise UnknownTokenError(token, self.name) from None

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; raises UnknownTokenError on the first unknown token."""
        return [self.id(t) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``; raises VocabularyError for an id out of range."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise VocabularyError(f"id {i} is out of range for the {self.name or 'a'} "
                                      f"vocabulary of size {len(self.tokens)}")
            out.append(self.tokens[i])
        return out

    def get_config(self) -> dict:
        """JSON-ready description; :meth:`from_config` is its inverse."""
        return {"name": self.name, "tokens": self.tokens}

    @classmethod
    def from_config(cls, config: dict) -> Vocabulary:
        """Rebuild a vocabulary from :meth:`get_config`'s dict."""
        return cls(config["tokens"], name=config.get("name", ""))

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_config(json.load(f))
