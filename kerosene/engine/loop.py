"""The epoch, test and predict loops: the only code that calls callback hooks.

Per step the loop does what a hand-written torch loop does (take a batch, call the
model's ``train_step``) plus, only when some callback overrides a batch hook, one
dict for that callback. Values stay on the device: epoch means are reduced once per
epoch, and batch logs become floats only when a callback reads them. The loop builds
each epoch's logs itself (``aggregator.result()`` plus ``val_*``) before any
callback's ``on_epoch_end``.

    callback_list, history = configure_callbacks(model, callbacks, verbose, params, aggregator)
    run = RunState(seed, initial_epoch, epochs, aggregator=aggregator, adapter=adapter, callbacks=callback_list)
    run_fit(model, run, callback_list, val_adapter, validation_freq, NULL_CONTEXT)   # history now holds the epochs
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from .._user_warning import warn_user
from ..backend.config import training_mode
from ..callbacks.base import Callback, CallbackList, RunRestorer
from ..callbacks.base_logger import BaseLogger
from ..callbacks.history import History
from ..callbacks.progbar import ProgbarLogger
from ..utils.progbar import Progbar
from .arguments import validation_due
from .compile import stateful_metrics
from .jit import batch_rows
from .logs import AliasedLogs, BatchLogs, EpochAggregator

__all__ = ["configure_callbacks", "user_callbacks", "run_fit", "run_test", "run_predict", "autocast",
           "batch_rows", "to_numpy", "ProgbarCallback"]


# --- callbacks --------------------------------------------------------------------------
def _check_callbacks(callbacks):
    # One Callback instead of a list is accepted, as Keras 3 does.
    user = [callbacks] if isinstance(callbacks, Callback) else list(callbacks or [])
    for cb in user:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"`callbacks` must hold kerosene.callbacks.Callback instances, got {type(cb).__name__}")
    return user


def configure_callbacks(model, callbacks, verbose, params, aggregator):
    """The fit callback list: BaseLogger, ProgbarLogger (when verbose), the user's, History last."""
    user = _check_callbacks(callbacks)
    ordered = [BaseLogger()]
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in user):
        ordered.append(ProgbarLogger())
    ordered += user
    for cb in ordered:
        if isinstance(cb, ProgbarLogger):
            cb.aggregator = aggregator
    history = History()
    ordered.append(history)
    return CallbackList(ordered, model=model, params=params), history


def user_callbacks(model, callbacks, params):
    """The evaluate/predict callback list: the user's callbacks alone."""
    return CallbackList(_check_callbacks(callbacks), model=model, params=params)


# --- fit --------------------------------------------------------------------------------
def run_fit(model, run, callback_list, val_adapter, validation_freq, dist):
    """Train over ``run``'s epochs; ``on_train_end`` runs on every exit path, errors re-raised after."""
    model.stop_training = False
    model.stop_reason = None
    reason = "completed"
    epoch_logs = {}
    try:
        restorers = [cb for cb in callback_list if isinstance(cb, RunRestorer)]
        for restorer in restorers:
            restorer.restore_state(run)
        callback_list.on_train_begin({})
        for restorer in restorers:
            restorer.restore_position(run)
        dist.sync_stop(model)
        epoch_logs = _run_epochs(model, callback_list, val_adapter, run, validation_freq, dist)
        if model.stop_training:
            reason = model.stop_reason or "stop_training"
    except KeyboardInterrupt as exc:
        reason = "interrupted"
        dist.fail(exc)
        raise
    except BaseException as exc:
        reason = "error"
        dist.fail(exc)  # lets the other ranks fail fast instead of waiting in a collective
        raise
    finally:
        model.stop_reason = reason
        run.last_epoch_logs = epoch_logs
        _finish(callback_list, epoch_logs, failed=reason in ("interrupted", "error"))
        dist.unwrap_model(model)


def _finish(callback_list, logs, failed):
    if not failed:
        callback_list.on_train_end(logs)
        return
    try:
        callback_list.on_train_end(logs)
    except Exception as exc:  # the original error matters more; do not mask it
        warn_user(f"on_train_end raised {type(exc).__name__}: {exc} while handling an earlier error")


def _run_epochs(model, callbacks, val_adapter, loop_state, validation_freq, dist):
    """The epoch loop. Returns the last epoch's logs."""
    adapter, aggregator = loop_state.adapter, loop_state.aggregator
    train_step = _step(model, "train")
    precision_ctx = autocast(model)
    has_begin = callbacks.has("on_train_batch_begin")
    has_end = callbacks.has("on_train_batch_end")
    epoch_logs = {}
    epoch = loop_state.start_epoch
    while epoch < loop_state.epochs:
        loop_state.epoch = epoch
        start_step = loop_state.start_step if epoch == loop_state.start_epoch else 0
        if start_step == 0:
            aggregator.reset()
            model.reset_metrics()   # Keras 2.2's stateful metrics count from zero each epoch
        model.train(training_mode(True))
        loop_state.epoch_resumed = start_step > 0
        callbacks.on_epoch_begin(epoch, {})
        update = aggregator.update
        batches = (adapter.epoch_batches(epoch, start_step, positioned=loop_state.positioned) if start_step
                   else adapter.epoch_batches(epoch))
        with precision_ctx():
            for step, batch in enumerate(batches, start_step):
                size = batch_rows(batch[0])
                if has_begin:
                    callbacks.on_train_batch_begin(step, {"batch": step, "size": size})
                logs = train_step(batch)
                update(logs, size)
                loop_state.step = step + 1
                if has_end:
                    callbacks.on_train_batch_end(step, BatchLogs(logs, step, size))
                if dist.check_stop_every_step:
                    dist.sync_stop(model)  # every rank, every step, so all break at the same step
                if model.stop_training:
                    break
        adapter.on_epoch_end()
        loop_state.start_step = 0
        dist.reduce_aggregator(aggregator)  # in place: ProgbarLogger holds this aggregator
        epoch_logs = AliasedLogs(aggregator.result())
        if val_adapter is not None and not model.stop_training and validation_due(epoch, validation_freq):
            loop_state.in_validation = True
            val_logs = run_test(model, val_adapter, callbacks, dist=dist)
            loop_state.in_validation = False
            epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        loop_state.epoch_resumed = False
        loop_state.step = 0
        dist.sync_stop(model)
        epoch += 1
        loop_state.epoch = epoch
        if model.stop_training:
            break
    return epoch_logs


def _step(model, kind):
    """The model's ``<kind>_step``, compiled under ``jit_compile`` (engine.jit)."""
    state = model._compile_state
    steps = state.steps if state is not None else None
    if steps is None:
        return getattr(model, kind + "_step")
    step = getattr(steps, kind)
    if hasattr(step, "rows"):   # a CompiledStep (not an eager fallback)
        step.rows = None        # this loop's first batch sets the compiled batch size
    return step


def autocast(model):
    precision = model._compile_state.precision
    device = model._compile_state.device
    # The context spans many steps: autocast's cache of low-precision weight copies would
    # hand later steps the weights of the first one, so it stays off.
    if precision in ("mixed_bfloat16", "bfloat16"):
        return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=False)
    if precision in ("mixed_float16", "float16"):
        return lambda: torch.autocast(device_type=device.type, dtype=torch.float16, cache_enabled=False)
    return contextlib.nullcontext


# --- evaluation and prediction -----------------------------------------------------------
def run_test(model, adapter, callbacks, dist):
    """Run the test loop over ``adapter`` firing ``on_test_*`` hooks; returns float means."""
    was_training = model.training
    model.train(training_mode(False))
    aggregator = EpochAggregator(key for key, _ in stateful_metrics(model._compile_state))
    model.reset_metrics()   # Keras 2.2's stateful metrics count from zero in each evaluation
    has_begin = callbacks.has("on_test_batch_begin")
    has_end = callbacks.has("on_test_batch_end")
    test_step = _step(model, "test")
    callbacks.on_test_begin({})
    with torch.no_grad(), autocast(model)():
        for step, batch in enumerate(adapter.epoch_batches(0)):
            if getattr(adapter, "padding", False):
                model.predict_step(batch)   # a filler step: the forward the other ranks' collectives need
                continue
            size = batch_rows(batch[0])
            if has_begin:
                callbacks.on_test_batch_begin(step, {"batch": step, "size": size})
            logs = test_step(batch)
            aggregator.update(logs, size)
            if has_end:
                callbacks.on_test_batch_end(step, BatchLogs(logs, step, size))
    dist.reduce_aggregator(aggregator)
    results = aggregator.result()
    callbacks.on_test_end(AliasedLogs(results))
    model.train(was_training)
    return results


class ProgbarCallback(Callback):
    """Progress for evaluate/predict (Keras 2 prints a bar for evaluate by default)."""

    def __init__(self, steps, verbose, test):
        super().__init__()
        self.bar = Progbar(steps, verbose=verbose)
        self.test = test
        self.seen = 0

    def on_test_batch_end(self, batch, logs=None):
        self.seen = batch + 1

    def on_predict_batch_end(self, batch, logs=None):
        self.seen = batch + 1

    def on_test_end(self, logs=None):
        self.bar.update(self.seen, list((logs or {}).items()), finalize=True)

    def on_predict_end(self, logs=None):
        self.bar.update(self.seen, [], finalize=True)


def run_predict(model, adapter, cb_list):
    """The model's outputs over ``adapter``, firing ``on_predict_*`` hooks; numpy arrays."""
    has_begin = cb_list.has("on_predict_batch_begin")
    has_end = cb_list.has("on_predict_batch_end")
    was_training = model.training
    model.train(training_mode(False))
    outputs = []
    predict_step = _step(model, "predict")
    cb_list.on_predict_begin({})
    with torch.no_grad():
        for step, batch in enumerate(adapter.epoch_batches(0)):
            if getattr(adapter, "padding", False):
                model.predict_step(batch)   # a filler step (see run_test); its outputs are dropped
                continue
            if has_begin:
                cb_list.on_predict_batch_begin(step, {"batch": step, "size": batch_rows(batch[0])})
            out = predict_step(batch)
            outputs.append(out)
            if has_end:
                cb_list.on_predict_batch_end(step, {"outputs": to_numpy(out), "batch": step,
                                                    "size": batch_rows(batch[0])})
    cb_list.on_predict_end({})
    model.train(was_training)
    return _concat(outputs) if outputs else None   # None: a rank whose share of the data is empty


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype == torch.bfloat16 or value.dtype == torch.float16:
            value = value.float()
        return value.cpu().numpy()
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return value


def _concat(outputs):
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return to_numpy(torch.cat([o.detach() for o in outputs]))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat([o[i] for o in outputs]) for i in range(len(first))]
    return np.asarray(outputs)
