"""Keras 2's ``keras.engine.training_utils``: helpers that check and slice training data.

Libraries and tests written for Keras 2 import these; kerosene's own loops do the same
checks in ``engine.data``::

    make_batches(10, 4)                          # [(0, 4), (4, 8), (8, 10)]
    check_array_length_consistency([x], [y], None)
    check_loss_and_target_compatibility([y], [losses.mse], [(None, 3)])
    weighted_masked_objective(losses.mae)(y_true, y_pred, weights, mask)   # a scalar
"""
from __future__ import annotations

import numpy as np
import torch

from .. import backend as K
from ..layers.core import Lambda
from ..losses import Loss
from ..symbolic import is_symbolic

__all__ = ["make_batches", "batch_shuffle", "check_array_length_consistency", "weighted_masked_objective",
           "check_loss_and_target_compatibility", "standardize_single_array"]

# Losses whose targets must match the output's shape axis by axis.
_SAME_SHAPE_LOSSES = ("mean_squared_error", "binary_crossentropy", "categorical_crossentropy")


def make_batches(size, batch_size):
    """``(start, stop)`` row ranges that cover ``size`` rows in batches of ``batch_size``."""
    for name, value in (("size", size), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if name == "size" else 1):
            raise ValueError(f"make_batches: `{name}` must be an integer >= {0 if name == 'size' else 1}, "
                             f"got {value!r}")
    return [(start, min(size, start + batch_size)) for start in range(0, size, batch_size)]


def batch_shuffle(index_array, batch_size):
    """Shuffle whole batches of ``index_array`` (the order inside each batch is kept).

    The rows after the last full batch stay at the end, as Keras 2 does for HDF5 data,
    which can only be read in increasing index order within a batch.
    """
    index_array = np.asarray(index_array)
    full = (len(index_array) // batch_size) * batch_size
    blocks = index_array[:full].reshape(-1, batch_size)
    np.random.shuffle(blocks)
    return np.append(blocks.reshape(-1), index_array[full:])


def standardize_single_array(x):
    """A 1-D array becomes a column ``(n, 1)``; anything else is returned as is."""
    if x is None:
        return None
    if hasattr(x, "shape") and len(x.shape) == 1:
        return np.expand_dims(np.asarray(x), 1)
    return x


def _as_list(arrays):
    if arrays is None:
        return []
    return list(arrays) if isinstance(arrays, (list, tuple)) else [arrays]


def _lengths(arrays):
    """The set of first-axis sizes of ``arrays`` (``None`` entries count as 0 rows)."""
    sizes = {0 if a is None else int(a.shape[0]) for a in _as_list(arrays)}
    return sizes or {0}


def _shapes(arrays):
    return [None if a is None else tuple(a.shape) for a in _as_list(arrays)]


def check_array_length_consistency(inputs, targets, weights=None):
    """A ValueError unless inputs, targets and sample weights all have one number of rows.

    Each argument is an array, a list of arrays (``None`` entries have no rows) or None.
    """
    x, y, w = _lengths(inputs), _lengths(targets), _lengths(weights)
    for name, sizes, arrays in (("input arrays (x)", x, inputs), ("target arrays (y)", y, targets),
                                ("sample_weight arrays", w, weights)):
        if len(sizes) > 1:
            raise ValueError(f"All {name} should have the same number of samples. "
                             f"Got array shapes: {_shapes(arrays)}")
    if x != y:
        raise ValueError(f"Input arrays should have the same number of samples as target arrays. "
                         f"Found {x.pop()} input samples and {y.pop()} target samples.")
    if y != w:
        raise ValueError(f"Sample_weight arrays should have the same number of samples as target arrays. "
                         f"Got {y.pop()} target samples and {w.pop()} sample weights.")


def _loss_name(loss):
    """The Keras function name of a loss given as a function, a Loss object or a string."""
    from .. import losses  # deferred: the engine sits below losses in import order
    fn = losses.get(loss)
    fn = getattr(type(fn), "_fn", None) or getattr(fn, "fn", fn)
    return getattr(fn, "__name__", None)


def check_loss_and_target_compatibility(targets, loss_fns, output_shapes):
    """A ValueError when a target array cannot work with its output's loss.

    ``categorical_crossentropy`` needs one-hot targets (a last axis of 1 means integer
    labels: use ``sparse_categorical_crossentropy`` or ``to_categorical``);
    ``mean_squared_error``, ``binary_crossentropy`` and ``categorical_crossentropy`` need
    targets shaped like the output (``None`` axes of the output match anything).
    """
    for y, loss, shape in zip(targets, loss_fns, output_shapes):
        if y is None or loss is None:
            continue
        name = _loss_name(loss)
        if name == "categorical_crossentropy" and y.shape[-1] == 1:
            raise ValueError(
                f"You are passing a target array of shape {tuple(y.shape)} while using as loss "
                "`categorical_crossentropy`, which expects one-hot targets of shape (samples, classes). "
                "For integer class targets, convert them with kerosene.utils.to_categorical(y) or use "
                "the loss `sparse_categorical_crossentropy`.")
        if name in _SAME_SHAPE_LOSSES and shape is not None:
            for target_dim, out_dim in zip(y.shape[1:], tuple(shape)[1:]):
                if out_dim is not None and target_dim != out_dim:
                    raise ValueError(
                        f"A target array with shape {tuple(y.shape)} was passed for an output of shape "
                        f"{tuple(shape)} while using as loss `{name}`. This loss expects targets to have "
                        "the same shape as the output.")


def weighted_masked_objective(fn):
    """Keras 2's wrapper that turns a per-sample loss ``fn(y_true, y_pred)`` into
    ``weighted(y_true, y_pred, weights, mask=None)``, one scalar.

    Masked entries (``mask`` 0) count for nothing and the rest are scaled up by
    ``1 / mean(mask)``; the score is then averaged down to the rank of ``weights``,
    multiplied by them and divided by the share of non-zero weights, then averaged::

        weighted = weighted_masked_objective(losses.mae)
        weighted(y_true, y_pred, np.ones(3), mask)      # y of shape (3, 4, 2), mask (3, 4)

    A kerosene ``Loss`` object is used through its per-sample ``call``. ``None`` gives None.
    """
    if fn is None:
        return None
    per_sample = fn.call if isinstance(fn, Loss) else fn
    if not callable(per_sample):
        raise TypeError(f"weighted_masked_objective: `fn` must be a loss function fn(y_true, y_pred), got "
                        f"{type(fn).__name__}")

    def weighted(y_true, y_pred, weights, mask=None):
        args = (y_true, y_pred, weights, mask)
        symbolic = [i for i, a in enumerate(args) if a is not None and is_symbolic(a)]
        if symbolic:
            return _recorded(weighted, args, symbolic)
        score = K.cast(per_sample(y_true, y_pred), K.floatx())
        if mask is not None:
            mask = K.cast(mask, K.floatx())
            score = score * mask / K.mean(mask)
        if weights is not None:
            weights = K.cast(weights, K.floatx())
            extra = tuple(range(weights.dim(), score.dim()))
            if extra:
                score = torch.mean(score, dim=extra)
            score = score * weights / K.mean(K.cast(K.not_equal(weights, 0), K.floatx()))
        return K.mean(score)

    weighted.__name__ = getattr(per_sample, "__name__", "weighted")
    return weighted


def _recorded(weighted, args, symbolic):
    """``weighted(*args)`` on symbolic tensors (``Input()``, a layer's output): recorded in the
    graph as one Lambda call whose scalar output ``K.function`` or a ``Model`` can run."""
    def apply(values):
        filled = list(args)
        for i, value in zip(symbolic, values):
            filled[i] = value
        return weighted(*filled)

    layer = Lambda(apply, name=f"weighted_{weighted.__name__}")
    return layer([args[i] for i in symbolic])
