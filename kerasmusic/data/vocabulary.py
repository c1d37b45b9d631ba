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
        unknown: a token of ``tokens`` that stands for every token not in the
            vocabulary (e.g. ``"<unk>"``): :meth:`encode` maps unseen tokens to it
            instead of raising. None (the default): unseen tokens raise
            :class:`~kerasmusic.errors.UnknownTokenError`.

    Example:
    ```python
    vocab = Vocabulary.from_sequences([["C4", "E4"], ["C4", "rest"]], specials=["<start>"])
    vocab.encode(["<start>", "C4"])  # -> [0, 1]
    ```
    """

    def __init__(self, tokens: Sequence[str], name: str = "", unknown: str | None = None):
        self.tokens = list(tokens)
        self.name = name
        self._index = {t: i for i, t in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            dupes = sorted(t for t, c in Counter(self.tokens).items() if c > 1)
            raise VocabularyError(f"{name or 'vocabulary'}: duplicate tokens {dupes[:5]}")
        if unknown is not None and unknown not in self._index:
            raise VocabularyError(f"{name or 'vocabulary'}: the unknown token {unknown!r} is "
                                  "not one of its tokens")
        self.unknown = unknown

    @property
    def unknown_id(self) -> int | None:
        """Id of the unknown token, or None when unseen tokens raise."""
        return None if self.unknown is None else self._index[self.unknown]

    @classmethod
    def from_sequences(
        cls,
        sequences: Iterable[Iterable[str]],
        specials: Sequence[str] = (),
        name: str = "",
        sort_key=None,
        *,
        unknown: str | None = None,
        min_count: int = 1,
    ) -> Vocabulary:
        """Build a vocabulary of ``specials`` followed by every token seen, sorted.

        Args:
            sequences: token sequences to count.
            specials: tokens that come first, in this order, whether seen or not.
            name: what the vocabulary holds.
            sort_key: order of the seen tokens (default: string order).
            unknown: the unknown token (added after ``specials`` if not among them).
            min_count: with ``unknown``, tokens seen fewer times than this are left out,
                so they encode as ``unknown`` and a model trained on the encoded data
                learns how often something unseen comes.
        """
        if min_count < 1:
            raise VocabularyError(f"min_count must be at least 1, got {min_count}")
        if min_count > 1 and unknown is None:
            raise VocabularyError("min_count > 1 drops tokens: give an unknown token for them")
        counts = Counter(t for seq in sequences for t in seq)
        specials = list(specials) + ([unknown] if unknown and unknown not in specials else [])
        seen = {t for t, c in counts.items() if c >= min_count} - set(specials)
        return cls(specials + sorted(seen, key=sort_key), name=name, unknown=unknown)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.tokens == other.tokens
                and self.unknown == other.unknown)

    def __repr__(self) -> str:
        return f"Vocabulary(name={self.name!r}, size={len(self)})"

    def id(self, token: str) -> int:
        """Id of ``token``: the unknown token's id for an unseen token, if there is one.

        Raises:
            UnknownTokenError: ``token`` is not in a vocabulary without an unknown token.
        """
        try:
            return self._index[token]
        except KeyError:
            if self.unknown is not None:
                return self._index[self.unknown]
            raise UnknownTokenError(token, self.name) from None

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; see :meth:`id` for tokens not in the vocabulary."""
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
        config = {"name": self.name, "tokens": self.tokens}
        if self.unknown is not None:
            config["unknown"] = self.unknown
        return config

    @classmethod
    def from_config(cls, config: dict) -> Vocabulary:
        """Rebuild a vocabulary from :meth:`get_config`'s dict."""
        return cls(config["tokens"], name=config.get("name", ""), unknown=config.get("unknown"))

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_config(json.load(f))
