"""Range checks of numeric arguments, shared by the library and the command line.

:func:`check` raises :class:`~kerasmusic.errors.InvalidArgumentError` naming the
argument; :func:`violation` gives the bare rule for the command line to name its flag.
No TensorFlow here: the command line checks its flags before anything heavy loads.
"""

from __future__ import annotations

import math
import numbers

from kerasmusic.errors import InvalidArgumentError


def violation(value, *, minimum=None, above=None, maximum=None, below=None,
              integer: bool = False, finite: bool = False) -> str | None:
    """The rule ``value`` breaks (e.g. ``"at least 1"``), or None when it keeps every bound.

    Args:
        value: the number to check (NaN breaks every bound).
        minimum, above: the lowest value allowed, or the bound it must exceed.
        maximum, below: the highest value allowed, or the bound it must stay under.
        integer: whether the value must be a whole number (an ``int``, not a bool).
        finite: whether infinity is refused too (a learning rate; a time budget may be inf).
    """
    if integer:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return "a whole number"
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        return "a number"
    low_ok = (minimum is None or value >= minimum) and (above is None or value > above)
    high_ok = (maximum is None or value <= maximum) and (below is None or value < below)
    bounded = any(b is not None for b in (minimum, above, maximum, below))
    rule = _rule(minimum, above, maximum, below) if bounded else ""
    if finite and math.isinf(value):
        return f"a finite number {rule}".strip()
    if low_ok and high_ok and not math.isnan(value):
        return None
    return rule or "a number"


def _rule(minimum, above, maximum, below) -> str:
    low = f"[{minimum}" if minimum is not None else f"({above}" if above is not None else None
    high = f"{maximum}]" if maximum is not None else f"{below})" if below is not None else None
    if low and high:
        return f"in {low}, {high}"
    if minimum is not None:
        return f"at least {minimum}"
    if above is not None:
        return f"greater than {above}"
    if maximum is not None:
        return f"at most {maximum}"
    return f"less than {below}"


def check(name: str, value, *, optional: bool = False, **bounds):
    """Return ``value`` if it keeps ``bounds`` (see :func:`violation`), else raise.

    Args:
        name: the argument's name, for the message.
        value: its value; None passes when ``optional``.
        **bounds: ``minimum``, ``above``, ``maximum``, ``below``, ``integer``, ``finite``.

    Raises:
        InvalidArgumentError: ``"{name} must be {rule}, got {value!r}"``.
    """
    if value is None and optional:
        return value
    rule = violation(value, **bounds)
    if rule is not None:
        raise InvalidArgumentError(f"{name} must be {rule}, got {value!r}")
    return value


def check_count(name: str, value, minimum: int = 1, *, optional: bool = False):
    """A whole number of at least ``minimum`` (epochs, batch size, units, events...)."""
    return check(name, value, minimum=minimum, integer=True, optional=optional)


def check_positive(name: str, value, *, optional: bool = False):
    """A number greater than 0 (a time budget, a tempo)."""
    return check(name, value, above=0, optional=optional)


def check_learning_rate(name: str, value, *, optional: bool = False):
    """A learning rate: finite and at least 0 (0 keeps the weights as they are, which
    tests use; an infinite rate turns every weight it touches into NaN / Inf)."""
    return check(name, value, minimum=0, finite=True, optional=optional)


def check_rate(name: str, value, *, optional: bool = False):
    """A dropout-like rate in [0, 1)."""
    return check(name, value, minimum=0, below=1, optional=optional)


def check_training(*, epochs, batch_size, learning_rate=None, max_seconds=None,
                   **sizes) -> None:
    """The arguments every trainer shares, checked before any data is read.

    Args:
        epochs, batch_size: whole numbers of at least 1.
        learning_rate: finite, at least 0; max_seconds: greater than 0 (None passes either).
        **sizes: other whole numbers of at least 1 (``seq_len``, ``units``...; None passes).

    Raises:
        InvalidArgumentError: naming the first argument out of range.
    """
    check_count("epochs", epochs)
    check_count("batch_size", batch_size)
    check_learning_rate("learning_rate", learning_rate, optional=True)
    check_positive("max_seconds", max_seconds, optional=True)
    for name, value in sizes.items():
        check_count(name, value, optional=True)
