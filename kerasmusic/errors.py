"""Exceptions raised by kerasmusic.

Every error the library raises on bad input is a :class:`KerasMusicError`, so a
user can catch one class. Errors about a file carry its path in ``.path``.
"""

from __future__ import annotations

import os


class KerasMusicError(Exception):
    """Base class of every error kerasmusic raises on bad input."""


# What a reader's exception means when it says nothing (mido's EOFError is bare).
_SILENT_ERRORS = {EOFError: "the file ends early: truncated",
                  MemoryError: "out of memory: the file claims more than fits"}


def describe(exc: BaseException) -> str:
    """``"EOFError: the file ends early: truncated"``: a reader's exception in words, for
    a :class:`FileReadError`'s reason (never an empty ``"EOFError: "``)."""
    detail = str(exc).strip() or _SILENT_ERRORS.get(type(exc), "no detail given")
    return f"{type(exc).__name__}: {detail}"


class InvalidArgumentError(KerasMusicError, ValueError):
    """An argument is out of its range: a count below 1, a negative temperature, ...

    The message names the argument (``n_events must be at least 1, got 0``); the
    command line names its flag instead (``--n-events``).
    """


class FileReadError(KerasMusicError):
    """A file could not be read as music.

    Args:
        path: the file that failed.
        reason: what is wrong with it, in words.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keep the exception picklable across processes
        return (type(self), (self.path, self.reason))


class MidiReadError(FileReadError):
    """A MIDI file is not MIDI, is truncated or is otherwise unreadable."""


class EmptyMidiError(MidiReadError):
    """A MIDI file holds no notes at all."""


class NoPitchedNotesError(MidiReadError):
    """A MIDI file holds only drum notes where pitched notes are needed."""


class ScoreReadError(FileReadError):
    """A score file (MusicXML, kern, ABC, ...) could not be parsed."""


class CorpusError(KerasMusicError):
    """A corpus name or folder is unknown, or none of its files could be read."""


class VocabularyError(KerasMusicError):
    """Base class of vocabulary problems."""


class UnknownTokenError(VocabularyError, KeyError):
    """A token is not in the vocabulary."""

    def __init__(self, token: str, vocabulary_name: str = ""):
        self.token = token
        self.vocabulary_name = vocabulary_name
        where = f"{vocabulary_name} vocabulary" if vocabulary_name else "vocabulary"
        super().__init__(f"token {token!r} is not in the {where}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class VocabularyMismatchError(VocabularyError):
    """A vocabulary does not fit the model it is used with."""


class ModelFileError(KerasMusicError):
    """A saved model cannot be found or loaded."""


class EncodingFileError(ModelFileError, VocabularyError):
    """An encoding's JSON (``.encoding.json`` beside a model, the copy inside it, or a
    config dict) does not fit its schema: a field missing, of the wrong type or out of range.

    Also a :class:`VocabularyError`, which reading a broken encoding used to raise.

    Args:
        path: the file (None for a config given as a dict; :meth:`at` adds it).
        reason: what is wrong, naming the field.
        field: the field at fault, or None.
    """

    def __init__(self, path: str | os.PathLike | None, reason: str, field: str | None = None):
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        self.field = field
        super().__init__(reason if self.path is None else f"{self.path}: {reason}")

    def at(self, path: str | os.PathLike) -> EncodingFileError:
        """The same error, naming ``path`` as the file at fault."""
        return EncodingFileError(path, self.reason, self.field)

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.field))


class EncodingError(KerasMusicError):
    """A piece (or a primer) cannot be encoded: no notes in range, too short, bad ids.

    Args:
        name: the piece's name (its file) or what the input was.
        reason: what is wrong with it, in words.
    """

    def __init__(self, name: str, reason: str):
        self.name = name or "piece"
        self.reason = reason
        super().__init__(f"{self.name}: {reason}")

    def __reduce__(self):
        return (type(self), (self.name, self.reason))


class NonFiniteLossError(KerasMusicError):
    """A training loss became NaN or infinite; training stopped before saving it."""


class TextReadError(FileReadError):
    """A text file is missing or is not UTF-8 text."""


class EmptyTextError(TextReadError):
    """A text (a file, or a document given as a string) holds no characters."""


class UnknownCharactersError(UnknownTokenError):
    """A text holds characters the character vocabulary does not have.

    Attributes:
        characters: every unknown character, in order of first appearance.
    """

    def __init__(self, characters, where: str = "the text"):
        self.characters = list(dict.fromkeys(characters))
        self.token = self.characters[0] if self.characters else ""
        self.vocabulary_name = "character"
        self.where = where
        shown = ", ".join(repr(c) for c in self.characters[:20])
        more = f" and {len(self.characters) - 20} more" if len(self.characters) > 20 else ""
        VocabularyError.__init__(
            self, f"{where} has characters the model was not trained on: {shown}{more}")

    def __reduce__(self):
        return (type(self), (self.characters, self.where))


class UnknownLabelError(UnknownTokenError):
    """A conditioning label (e.g. an artist) was not seen in training.

    Attributes:
        label: the unknown label.
        known: the labels the model knows.
    """

    def __init__(self, label: str, known=()):
        self.label = self.token = label
        self.known = list(known)
        self.vocabulary_name = "label"
        shown = ", ".join(repr(k) for k in self.known[:20])
        more = f" and {len(self.known) - 20} more" if len(self.known) > 20 else ""
        VocabularyError.__init__(
            self, f"label {label!r} was not seen in training; known labels: {shown}{more}")

    def __reduce__(self):
        return (type(self), (self.label, self.known))
