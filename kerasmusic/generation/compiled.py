"""Support for the compiled generation loops: XLA or not, and where the loops are kept."""

from __future__ import annotations

import tensorflow as tf


def use_xla(jit_compile: bool | str) -> bool:
    """``jit_compile`` as a bool; ``"auto"`` means XLA unless a GPU is visible.

    A cuDNN LSTM cannot be XLA-compiled; on CPU XLA makes the loops several times faster.
    """
    if jit_compile == "auto":
        return not tf.config.list_logical_devices("GPU")
    return bool(jit_compile)


def loop_cache(model, attr: str) -> dict:
    """The dict of compiled loops kept on ``model`` under ``attr`` (created empty).

    Kept on the model itself, outside Keras' attribute tracking (so never saved): the
    compiled loops live exactly as long as the model.
    """
    cache = getattr(model, attr, None)
    if cache is None:
        cache = {}
        object.__setattr__(model, attr, cache)
    return cache
