"""What symusic's reading of a MIDI file does not tell, read from the file's bytes.

symusic (:func:`~kerasmusic.data.midi.read_midi`) parses a file in C++ but keeps
neither the file's track chunks nor the order of its events; miditoolkit, whose
pieces the reader keeps giving, numbers instruments by the event that ends their
first note and names them by the track name seen by then. This module splits a file
into its track chunks as mido reads them (so each chunk is parsed on its own), walks
the few events before a chunk's first note in Python, and tells the reader when a
file is unusual enough to need the slow, exact reader.
"""

from __future__ import annotations

import dataclasses
import struct

#: The marker text the reader appends to a chunk (see :func:`closed_chunk`).
END_MARKER = "kerasmusic:end"

_EOT = b"\xff\x2f\x00"
# Any byte that may be a program change's status: absent from a stretch of a chunk,
# that stretch changes no program.
_PROGRAM_BYTES = bytes(range(0xC0, 0xD0))
# The meta messages mido decodes and may refuse: sequence number, channel prefix,
# tempo, SMPTE offset, time and key signature, with the least data each needs.
_META_LENGTHS = {0x00: 0, 0x20: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}


def _closing_events(channel: int) -> bytes:
    """A note-off for every pitch of ``channel``, one tick after the previous event."""
    return (b"\x01" + bytes([0x80 | channel, 0, 0])
            + b"".join(b"\x00" + bytes([pitch, 0]) for pitch in range(1, 128)))


_CLOSING = [_closing_events(channel) for channel in range(16)]
_CLOSING_SIZE = len(_CLOSING[0])
_HEADER = b"MThd\x00\x00\x00\x06\x00\x01\x00\x01"  # (one track, of format 1)
_TRACK_HEAD = struct.Struct(">h4sL")  # the header's division, then a chunk's head
_CHUNK_HEAD = struct.Struct(">4sL").unpack_from
# Deleted, these leave the bytes that may be a note-on's or a program change's status.
_NOT_STATUS = bytes(b for b in range(256) if b >> 4 not in (0x9, 0xC))
_MARKER = b"\xff\x06" + bytes([len(END_MARKER)]) + END_MARKER.encode()


@dataclasses.dataclass
class Layout:
    """A standard MIDI file's header fields and its track chunks' contents."""

    smf_format: int
    division: int
    chunks: list[bytes]


def split_chunks(data: bytes) -> Layout | None:
    """The header and track chunks of ``data``, or None where mido would read it
    differently from a well-formed file (no MThd, a cut chunk, a chunk that is not
    MTrk, no track, an empty track...): the slow reader then says what is wrong."""
    if len(data) < 14 or data[:4] != b"MThd":
        return None
    size = struct.unpack(">L", data[4:8])[0]
    smf_format, n_tracks, division = struct.unpack(">hhh", data[8:14])
    pos, chunks = 8 + size, []
    if size < 6 or n_tracks <= 0:
        return None
    for _ in range(n_tracks):
        if pos + 8 > len(data):
            return None
        kind, size = _CHUNK_HEAD(data, pos)
        if kind != b"MTrk":
            return None
        chunk = data[pos + 8:pos + 8 + size]
        # (Where symusic stops at an end of track before this one, mido reads on: the
        # marker closed_chunk puts before this one is then missing.)
        if len(chunk) < size or not chunk.endswith(_EOT):
            return None
        chunks.append(chunk)
        pos += 8 + size
    return Layout(smf_format, division, chunks)


def statuses(chunk: bytes) -> bytes:
    """The bytes of ``chunk`` that may be the status of a note-on or of a program
    change, in order: what :func:`closed_chunk`, :func:`may_change_program` and
    :meth:`Prelude.settles` look for, found in one pass over the chunk."""
    return chunk.translate(None, _NOT_STATUS)


def closed_chunk(chunk: bytes, division: int, found: bytes | None = None) -> bytes:
    """A one-track MIDI file of ``chunk`` (ending with an end of track) with, before its
    end of track, a marker (:data:`END_MARKER`) and one tick later a note-off for every
    pitch of every channel the chunk may start notes on: each note the chunk leaves
    sounding ends after the marker. ``found``: the chunk's :func:`statuses`, if known."""
    # A channel's first note-on has its status byte: no such byte, no note on it.
    found = statuses(chunk) if found is None else found
    ons = _from_first_note_on(found)
    if ons and ons.count(ons[0]) == len(ons):  # (most chunks: one channel; a set is slow)
        closing = [_CLOSING[ons[0] & 0xF]] if ons[0] >> 4 == 0x9 else []
    else:
        closing = [_CLOSING[status & 0xF] for status in sorted(set(ons)) if status >> 4 == 0x9]
    # (the chunk's end of track, 3 bytes, gives way to the marker, the closing note-offs
    # and a new one a byte longer with its delta time)
    size = len(chunk) + len(_MARKER) + _CLOSING_SIZE * len(closing) + 1
    return b"".join([_HEADER, _TRACK_HEAD.pack(division, b"MTrk", size),
                     memoryview(chunk)[:-3], _MARKER, *closing, b"\x00" + _EOT])


@dataclasses.dataclass(slots=True)
class Prelude:
    """What a chunk's events hold up to its first sounding note-on.

    Args:
        names: the track names, in order (decoded as mido does, Latin-1).
        first_program: (channel, program) of the first program change, if any.
        end: the offset just past the first sounding note-on, or the chunk's length.
        sounding: whether a note-on with a velocity was met.
        tempos: (tick, microseconds a quarter) of each tempo met, in order.
        signatures: (tick, numerator, denominator) of each time signature met.
    """

    names: list[str]
    first_program: tuple[int, int] | None
    end: int
    sounding: bool
    tempos: list[tuple[int, int]]
    signatures: list[tuple[int, int, int]]

    def settles(self, chunk: bytes, found: bytes | None = None) -> bool:
        """Whether no program change and no track name can follow in ``chunk`` (whose
        :func:`statuses` are ``found``, if known), so the program and name of every note
        are those at the end of this prelude."""
        if _finds_name(chunk, self.end):
            return False
        if found is None:
            return not _has_program_byte(chunk[self.end:])
        # Most chunks: no program byte after the first byte that may be a note-on's
        # status, which comes before the prelude's end.
        if not _has_program_byte(_from_first_note_on(found)):
            return True
        # (Counted: the chunk's statuses hold no more program bytes than its prelude's.)
        return _program_bytes(found) == _program_bytes(chunk[:self.end])


def metas_decode(chunk: bytes) -> bool:
    """Whether no meta message in ``chunk`` (a track chunk, or a whole file: its chunks
    at once) is one mido refuses to decode (a tempo of fewer than 3 bytes, a time
    signature's denominator beyond 2**7, a key signature beyond 7 sharps or flats...).
    Looked for in the bytes: a byte pair that only looks like such a message (in a
    chunk's data or a chunk's head) makes it False too, and the slow reader then
    decides."""
    # (memchr's search for FF, rare in MIDI data, is faster than a regex's scan)
    at = chunk.find(b"\xff")
    while at >= 0:
        kind = chunk[at + 1] if at + 1 < len(chunk) else -1
        start = at + 2
        at = chunk.find(b"\xff", at + 1)
        if kind not in _META_LENGTHS:
            continue
        length, start = _read_number(chunk, start)
        if length is None or start + length > len(chunk):
            continue  # no message: one so cut would make symusic refuse the chunk
        data = chunk[start:start + length]
        if length < _META_LENGTHS[kind] or kind == 0x00 and length == 1:
            return False
        if kind == 0x54 and data[0] >> 5 > 3:
            return False
        if kind == 0x58 and data[1] > 7:  # symusic keeps 2**data[1] in a byte
            return False
        if kind == 0x59 and (not -7 <= (data[0] ^ 0x80) - 0x80 <= 7 or data[1] > 1):
            return False
    return True


def _finds_name(chunk: bytes, start: int) -> bool:
    """Whether ``chunk[start:]`` holds the bytes of a track name's start (FF 03)."""
    # (memchr's search for FF, rare in a track chunk, is many times faster than find's
    # for two bytes.)
    at = chunk.find(b"\xff", start)
    while at >= 0:
        if chunk[at + 1:at + 2] == b"\x03":
            return True
        at = chunk.find(b"\xff", at + 1)
    return False


def starts_no_note(found: bytes) -> bool:
    """Whether a chunk whose :func:`statuses` are ``found`` surely starts no note (no
    byte of it may be a note-on's status)."""
    return not _from_first_note_on(found)


def _from_first_note_on(found: bytes) -> bytes:
    """:func:`statuses` ``found`` from the first byte that may be a note-on's status
    (empty if none may be)."""
    return found.lstrip(_PROGRAM_BYTES)


def may_change_program(chunk: bytes, found: bytes | None = None) -> bool:
    """Whether ``chunk`` (whose :func:`statuses` are ``found``, if known) may hold a
    program change (False: it surely holds none)."""
    return _has_program_byte(chunk if found is None else found)


def _has_program_byte(data: bytes) -> bool:
    return _program_bytes(data) > 0


def _program_bytes(data: bytes) -> int:
    """How many bytes of ``data`` may be a program change's status."""
    # (Deleting the bytes is several times faster than a regex's search for one.)
    return len(data) - len(data.translate(None, _PROGRAM_BYTES))


def read_prelude(chunk: bytes, *, to_end: bool = False) -> Prelude | None:
    """Walk ``chunk``'s events in Python, as mido reads them, up to its first sounding
    note-on (or all of them, ``to_end``); None at anything but channel, meta and sysex
    messages (system messages, running status with none set or after a sysex, a data
    byte over 127) or at a tempo or time signature cut short."""
    pos, size, status, sounding, tick = 0, len(chunk), None, False, 0
    names: list[str] = []
    tempos: list[tuple[int, int]] = []
    signatures: list[tuple[int, int, int]] = []
    first_program = None
    # (Numbers of one byte, most, are read in line: a call costs more than the read.)
    while pos < size:
        if chunk[pos] < 0x80:
            tick += chunk[pos]
            pos += 1
        else:
            delta, pos = _read_number(chunk, pos)
            if delta is None:
                return None
            tick += delta
        if pos >= size:
            return None
        kind = chunk[pos]
        if kind >= 0x80:
            pos += 1
            if kind != 0xFF:
                status = kind
        elif status is None or status >= 0xF0:
            return None
        else:
            kind = status
        if kind == 0xFF:
            if pos + 1 < size and chunk[pos + 1] < 0x80:
                meta, length = chunk[pos], chunk[pos + 1]
                pos += 2
            else:
                if pos >= size:
                    return None
                meta = chunk[pos]
                length, pos = _read_number(chunk, pos + 1)
                if length is None:
                    return None
            if pos + length > size:
                return None
            if meta == 0x03:
                names.append(chunk[pos:pos + length].decode("latin-1"))
            elif meta == 0x51:  # (as mido decodes them: the first bytes of longer ones)
                if length < 3:
                    return None
                tempos.append((tick, int.from_bytes(chunk[pos:pos + 3], "big")))
            elif meta == 0x58:
                if length < 4 or chunk[pos + 1] > 7:
                    return None
                signatures.append((tick, chunk[pos], 1 << chunk[pos + 1]))
            pos += length
        elif kind in (0xF0, 0xF7):
            length, pos = _read_number(chunk, pos)
            if length is None or pos + length > size:
                return None
            pos += length
        elif 0x80 <= kind <= 0xEF:
            first = chunk[pos] if pos < size else 0x80
            if kind >> 4 in (0xC, 0xD):
                pos += 1
                if first > 127:
                    return None
                if kind >> 4 == 0xC and first_program is None:
                    first_program = (kind & 0xF, first)
                continue
            second = chunk[pos + 1] if pos + 1 < size else 0x80
            pos += 2
            if first > 127 or second > 127:
                return None
            if kind >> 4 == 0x9 and second > 0:
                if not to_end:
                    return Prelude(names, first_program, pos, True, tempos, signatures)
                sounding = True
        else:
            return None
    return Prelude(names, first_program, size, sounding, tempos, signatures)


def _read_number(data: bytes, pos: int) -> tuple[int | None, int]:
    """The variable-length number at ``pos`` and the offset past it."""
    value = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
    return None, pos
