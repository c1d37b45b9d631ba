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
    assert violation(math.inf, above=0, finite=True) == "a finite number greater than 0"
    assert violation(math.inf, above=0) is None  # a time budget may be unlimited


def test_check_names_the_argument_and_is_a_value_error():
    with pytest.raises(InvalidArgumentError, match=r"^epochs must be at least 1, got -1$"):
        check_count("epochs", -1)
    with pytest.raises(ValueError):  # also a ValueError, for code that catches those
        check_positive("learning_rate", 0)
    assert issubclass(InvalidArgumentError, KerasMusicError)
    assert check_count("top_k", None, optional=True) is None
    assert check("top_p", 0.9, above=0, maximum=1) == 0.9


def _pieces():
    from builders import make_piece

    return [make_piece([(60 + (i + j) % 12, j, 1) for j in range(24)], name=f"p{i}")
            for i in range(4)]


def _trainers():
    import kerasmusic as km

    return {"note_lstm": lambda **kw: km.train_note_lstm(_pieces(), tracks=[0], **kw),
            "event_lstm": lambda **kw: km.train_event_lstm(_pieces(), **kw),
            "pianoroll_rnn": lambda **kw: km.train_pianoroll_rnn(_pieces(), **kw),
            "char_rnn": lambda **kw: km.train_char_rnn(["abcabc " * 30, "cabcab " * 30], **kw),
            "crnngan": lambda **kw: km.train_crnngan(_pieces(), **kw)}


@pytest.mark.parametrize("trainer", ["note_lstm", "event_lstm", "pianoroll_rnn", "char_rnn",
                                     "crnngan"])
@pytest.mark.parametrize("bad", [dict(epochs=-1), dict(epochs=0), dict(batch_size=0),
                                 dict(learning_rate=-0.1), dict(learning_rate=float("inf")),
                                 dict(max_seconds=-5.0)])
def test_trainers_refuse_what_would_train_nothing(trainer, bad):
    """``epochs=-1`` used to train nothing and return an untrained model."""
    name = next(iter(bad))
    if trainer == "crnngan" and name in ("learning_rate", "max_seconds"):
        pytest.skip("the C-RNN-GAN takes its learning rates in CRNNGANConfig")
    with pytest.raises(InvalidArgumentError, match=f"^{name} must be"):
        _trainers()[trainer](**bad)


def test_crnngan_config_is_checked():
    import kerasmusic as km

    with pytest.raises(InvalidArgumentError, match="^g_learning_rate must be at least 0"):
        km.CRNNGANConfig(g_learning_rate=-1e-3)
    with pytest.raises(InvalidArgumentError, match="^d_learning_rate must be a finite number"):
        km.CRNNGANConfig(d_learning_rate=float("inf"))
    with pytest.raises(InvalidArgumentError, match="^freeze_threshold must be in"):
        km.CRNNGANConfig(freeze_threshold=1.5)
