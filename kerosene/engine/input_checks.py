"""Checks on the data ``fit``/``evaluate`` received, made on the first batch before any step runs.

    >>> from kerosene.engine.input_checks import check_targets_given
"""
from __future__ import annotations

__all__ = ["check_targets_given"]


def check_targets_given(model, sample, method, default_step):
    """A ``ValueError`` when the first batch has no targets but the compiled loss needs them.

    ``default_step`` is the base class's ``train_step``/``test_step``: a model that overrides
    its step may compute a loss without targets, so it is left alone.
    """
    step_name = default_step.__name__
    if sample[1] is not None or getattr(type(model), step_name) is not default_step:
        return
    if any(loss is not None for loss in model._compile_state.losses or []):
        raise ValueError(
            f"{method}() needs targets: `y` is None and `x` holds no targets, but the compiled loss compares "
            "predictions with targets. Pass `y` (or batches of (x, y)); predict(x) gives the outputs alone")
