"""What a piece may claim, and what a representation may allocate for one piece.

A damaged file can read as valid and still claim a note ending 5.3e9 quarter notes
in: a frame roll of it would take 6.8 TiB. The readers refuse a piece beyond
:data:`MAX_QUARTERS` or :data:`MAX_NOTES` (an error naming the file), and every
representation that allocates per time step refuses more than :data:`MAX_CELLS`
cells (an :class:`~kerasmusic.errors.EncodingError` naming the piece) instead of
raising ``MemoryError`` or swapping.
"""

from __future__ import annotations

from fractions import Fraction

from kerasmusic.errors import EncodingError

#: The longest a piece may last, in quarter notes (about 14 hours at 120 a minute).
MAX_QUARTERS = 100_000
#: The most notes a piece may hold.
MAX_NOTES = 2_000_000
#: The most cells (time steps x keys x tracks) a representation makes of one piece:
#: 512 MiB as float32, e.g. 1.5 million frames of 88 keys.
MAX_CELLS = 2**27


def piece_problem(n_notes: int, end: Fraction | float, what: str = "a note ends") -> str | None:
    """What is wrong with a piece of ``n_notes`` whose last event is at ``end`` quarter
    notes, in words, or None when it is within :data:`MAX_NOTES` and :data:`MAX_QUARTERS`."""
    if n_notes > MAX_NOTES:
        return f"{n_notes} notes: more than the {MAX_NOTES:,} a piece may hold (a damaged file?)"
    if end > MAX_QUARTERS:
        return (f"{what} at {float(end):.4g} quarter notes: beyond the {MAX_QUARTERS:,} a piece "
                "may last (a damaged file?)")
    return None


def check_cells(name: str, shape: tuple[int, ...], what: str) -> None:
    """Raise before allocating a ``what`` of ``shape`` for the piece ``name`` if it has
    more than :data:`MAX_CELLS` cells.

    Raises:
        EncodingError: naming the piece, the size and the limit.
    """
    cells = 1
    for size in shape:
        cells *= int(size)
    if cells > MAX_CELLS:
        raise EncodingError(name, f"its {what} would have {cells:.3g} cells "
                                  f"({' x '.join(str(int(s)) for s in shape)}): more than the "
                                  f"{MAX_CELLS:,} a piece may take; is the piece (or a note "
                                  "in it) far longer than it should be?")
