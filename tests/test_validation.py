"""Range checks of numeric arguments: one error class, a message that names the argument."""

import math

import pytest

from kerasmusic.errors import InvalidArgumentError, KerasMusicError
from kerasmusic.validation import check, check_count, check_positive, violation


def test_rules_in_words():
    assert violation(0, minimum=1, integer=True) == "at least 1"
    assert violation(0.0, above=0) == "greater than 0"
    assert violation(1.5, above=0, maximum=1) == "in (0, 1]"
    assert violation(1.0, minimum=0, below=1) == "in [0, 1)"
    assert violation(2.5, minimum=1, integer=True) == "a whole number"
    assert violation(True, minimum=0, integer=True) == "a whole number"
    assert violation(math.nan, minimum=0) == "at least 0"
    assert violation(3, minimum=1, maximum=5, integer=True) is None


def test_check_names_the_argument_and_is_a_value_error():
    with pytest.raises(InvalidArgumentError, match=r"^epochs must be at least 1, got -1$"):
        check_count("epochs", -1)
    with pytest.raises(ValueError):  # also a ValueError, for code that catches those
        check_positive("learning_rate", 0)
    assert issubclass(InvalidArgumentError, KerasMusicError)
    assert check_count("top_k", None, optional=True) is None
    assert check("top_p", 0.9, above=0, maximum=1) == 0.9
