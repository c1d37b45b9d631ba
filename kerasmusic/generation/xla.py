"""Whether the compiled generation loops are XLA-compiled."""

from __future__ import annotations

import tensorflow as tf


def use_xla(jit_compile: bool | str) -> bool:
    """``jit_compile`` as a bool; ``"auto"`` means XLA unless a GPU is visible.

    A cuDNN LSTM cannot be XLA-compiled; on CPU XLA makes the loops several times faster.
    """
    if jit_compile == "auto":
        return not tf.config.list_logical_devices("GPU")
    return bool(jit_compile)
