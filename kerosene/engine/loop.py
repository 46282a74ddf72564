"""The training, evaluation and prediction loops: the only code that calls callback hooks.

Per step the loop does what a hand-written torch loop does (slice a batch, call the
model's ``train_step``) plus, only when some callback overrides a batch hook, one
dict for that callback. Values stay on the device: epoch means are reduced once per
epoch, and batch logs become floats only when a callback reads them.
"""
from __future__ import annotations

import contextlib
import sys
import warnings

import numpy as np
import torch

from ..callbacks.base import Callback, CallbackList
from ..callbacks.core import BaseLogger, History
from ..callbacks.progbar import Progbar, ProgbarLogger
from ..utils.tree import flatten, map_tensors, per_output
from .data import ArrayAdapter, make_adapter, split_tail, to_tensor
from .logs import BatchLogs, EpochAggregator, to_floats
from .state import LoopState

__all__ = ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch",
           "metric_names"]

_FIT_KWARGS_IGNORED = ("max_queue_size", "workers", "use_multiprocessing", "nb_epoch")


# --- preparation ------------------------------------------------------------------------
def require_compiled(model, what):
    if model._compile_state is None:
        from ..models import NotCompiledError
        raise NotCompiledError(
            f"You must compile your model before {what}: call model.compile(optimizer=..., loss=...) first")


def _check_verbose(verbose):
    if verbose == "auto":
        return 1 if _stdout_is_terminal() else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _stdout_is_terminal():
    try:
        return sys.stdout.isatty() or "ipykernel" in sys.modules
    except (AttributeError, ValueError):
        return False


def prepare(model, x_sample, y_sample=None, samples=None):
    """Build a lazy model from a sample batch, place it on the device, bind the optimizer, resolve metrics."""
    from .. import metrics as metrics_module
    from ..models import _bind_optimizer
    state = model._compile_state
    check = getattr(model, "check_input", None)
    if check is not None:
        check(x_sample, samples)
    if not model.built:
        model.cpu()
        model._build_from_sample(map_tensors(torch.Tensor.cpu, x_sample))
    _move_model(model, state.device)
    _bind_optimizer(model)
    state.regularized = tuple(m for m in model.modules() if m is not model and hasattr(m, "regularization_loss"))
    state.constrained = tuple(m for m in model.modules() if any(
        getattr(spec, "constraint", None) is not None for spec in getattr(m, "_weight_specs", ())))
    if state.metrics is None and y_sample is not None:
        resolved = []
        ys = y_sample if state.output_names is None else per_output(y_sample, state.output_names)
        for i, specs in enumerate(state.metric_specs):
            loss = state.losses[i] if i < len(state.losses) else None
            target = ys if state.output_names is None else ys[i]
            shape = tuple(target.shape) if isinstance(target, torch.Tensor) else None
            resolved.append([metrics_module.get(m, loss=loss, output_shape=shape) for m in specs])
        state.metrics = resolved
    if state.precision in ("mixed_float16", "float16") and state.loss_scaler is None:
        # float16 gradients underflow without loss scaling (Keras wraps the optimizer in a
        # LossScaleOptimizer for mixed_float16); torch's GradScaler is the same dynamic scheme.
        state.loss_scaler = torch.amp.GradScaler(state.device.type)
    if state.jit_compile and state.compiled_forward is None:
        state.compiled_forward = torch.compile(model)


def _move_model(model, device):
    for p in model.parameters():
        if p.device != device:
            model.to(device)
        return


def metric_names(model):
    """Names of the values one step logs, in order: ``['loss', 'acc', ...]``."""
    state = model._compile_state
    if state is None:
        return []
    names = ["loss"]
    if state.output_names is None:
        specs = state.metrics if state.metrics is not None else state.metric_specs
        names += [_metric_name(m) for m in specs[0]]
    else:
        for i, out in enumerate(state.output_names):
            if len(state.losses) > 1 and state.losses[i] is not None:
                names.append(f"{out}_loss")
            specs = state.metrics[i] if state.metrics is not None else state.metric_specs[i]
            names += [f"{out}_{_metric_name(m)}" for m in specs]
    return names


def _metric_name(metric):
    if isinstance(metric, str):
        return metric
    name = getattr(metric, "name", None)
    if isinstance(name, str):
        return name
    return getattr(metric, "__name__", type(metric).__name__)


# --- class weights and validation split --------------------------------------------------
def class_weights_to_sample_weights(y, class_weight, sample_weight):
    """Per-sample weights from a ``{class: weight}`` dict, checked against the classes in ``y``."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight, got {type(class_weight).__name__}")
    leaves, _ = flatten(y)
    if len(leaves) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output")
    labels = to_tensor(leaves[0], "y")
    if labels.dim() >= 2 and labels.shape[-1] > 1:
        num_classes = int(labels.shape[-1])
        indices = labels.reshape(-1, num_classes).argmax(dim=-1)
    else:
        flat = labels.reshape(labels.shape[0], -1)[:, 0] if labels.dim() > 1 else labels
        indices = flat.round().long() if flat.is_floating_point() else flat.long()
        num_classes = max(int(indices.max().item()) + 1 if indices.numel() else 0, 2)
    bad = [k for k in class_weight if not isinstance(k, (int, np.integer)) or not 0 <= int(k) < num_classes]
    if bad:
        raise ValueError(
            f"`class_weight` names classes {bad} that do not exist: y has {num_classes} classes "
            f"(0 to {num_classes - 1})")
    table = torch.ones(num_classes, dtype=torch.float32)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    weights = table[indices]
    if sample_weight is not None:
        weights = weights * to_tensor(sample_weight, "sample_weight").to(torch.float32).reshape(-1)
    return weights


def _check_validation_split(validation_split, x):
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"`validation_split` must be a float in [0, 1), got {validation_split!r}")
    if validation_split and not _is_arrays(x):
        raise ValueError(
            f"`validation_split` is only supported for arrays and tensors, not for {type(x).__name__}; "
            "pass validation_data instead")


def _is_arrays(x):
    leaves, _ = flatten(x) if isinstance(x, (list, tuple, dict)) else ([x], None)
    return bool(leaves) and all(isinstance(v, (np.ndarray, torch.Tensor)) or (
        hasattr(v, "shape") and hasattr(v, "__array__")) for v in leaves)


def _unpack_validation(validation_data):
    if isinstance(validation_data, (list, tuple)):
        if len(validation_data) == 2:
            return validation_data[0], validation_data[1], None
        if len(validation_data) == 3:
            return tuple(validation_data)
        raise ValueError(
            f"`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight), "
            f"got a {type(validation_data).__name__} of {len(validation_data)} items")
    return validation_data, None, None


def _validation_due(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _check_validation_freq(validation_freq):
    if isinstance(validation_freq, bool) or not (
            (isinstance(validation_freq, int) and validation_freq >= 1)
            or (isinstance(validation_freq, (list, tuple, set, range)) and all(
                isinstance(v, int) for v in validation_freq))):
        raise ValueError(f"`validation_freq` must be a positive int or a collection of epochs, got {validation_freq!r}")


def _check_epochs(epochs, initial_epoch):
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer, got {epochs!r}")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"`initial_epoch` must be a non-negative integer, got {initial_epoch!r}")


def _first_batch(adapter):
    batch = adapter.peek()
    if batch is None:
        raise ValueError("The data is empty: no batch could be drawn from it")
    return batch


# --- callbacks --------------------------------------------------------------------------
def _configure_callbacks(model, callbacks, verbose, params, aggregator):
    user = list(callbacks or [])
    for cb in user:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"`callbacks` must hold kerosene.callbacks.Callback instances, got {type(cb).__name__}")
    base = BaseLogger()
    base.aggregator = aggregator
    ordered = [base]
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in user):
        progbar = ProgbarLogger()
        ordered.append(progbar)
    ordered += user
    # A callback that restores the run's state (BackupAndRestore) must act before any other's on_train_begin.
    ordered.sort(key=lambda cb: not getattr(cb, "restores_training_state", False))
    for cb in ordered:
        if isinstance(cb, ProgbarLogger):
            cb.aggregator = aggregator
    history = History()
    ordered.append(history)
    return CallbackList(ordered, model=model, params=params), history


# --- fit --------------------------------------------------------------------------------
def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
        initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
        validation_freq=1, **kwargs):
    for key in kwargs:
        if key not in _FIT_KWARGS_IGNORED:
            raise TypeError(f"fit() got an unexpected keyword argument {key!r}")
    if "nb_epoch" in kwargs:
        epochs = kwargs["nb_epoch"]
    require_compiled(model, "training")
    _check_epochs(epochs, initial_epoch)
    verbose = _check_verbose(verbose)
    _check_validation_split(validation_split, x)
    _check_validation_freq(validation_freq)
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"`shuffle` must be True, False or 'batch', got {shuffle!r}")
    from .. import distributed
    dist = distributed.setup_for_fit(model)
    state = model._compile_state
    device = state.device

    if validation_split and validation_data is None:
        if y is None:
            raise ValueError("`validation_split` needs targets `y`")
        x, x_val = split_tail(x, validation_split)
        y, y_val = split_tail(y, validation_split)
        sw_val = None
        if sample_weight is not None:
            sample_weight, sw_val = split_tail(sample_weight, validation_split)
        validation_data = (x_val, y_val, sw_val)
    if class_weight is not None:
        if y is None:
            raise ValueError("`class_weight` needs targets `y` (arrays), not a generator or DataLoader")
        sample_weight = class_weights_to_sample_weights(y, class_weight, sample_weight)

    seed = int(torch.randint(0, 2 ** 62, (1,)).item())
    adapter = make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle), seed=seed,
                           device=device, steps=steps_per_epoch)
    adapter = dist.shard(adapter) if dist is not None else adapter
    val_adapter = None
    if validation_data is not None:
        vx, vy, vsw = _unpack_validation(validation_data)
        val_adapter = make_adapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                                   shuffle=False, device=device, steps=validation_steps, role="validation_data")
        val_adapter = dist.shard(val_adapter, evaluation=True) if dist is not None else val_adapter

    sample = _first_batch(adapter)
    prepare(model, sample[0], sample[1], adapter.samples)
    if dist is not None:
        dist.wrap_model(model)

    names = metric_names(model)
    do_validation = val_adapter is not None
    params = {
        "batch_size": getattr(adapter, "batch_size", batch_size),
        "epochs": epochs,
        "steps": adapter.steps,
        "samples": adapter.samples,
        "verbose": verbose,
        "do_validation": do_validation,
        "validation_freq": validation_freq,
        "metrics": names + (["val_" + n for n in names] if do_validation else []),
    }
    if dist is not None:
        params.update(dist.params(params))
    aggregator = EpochAggregator()
    callback_list, history = _configure_callbacks(model, callbacks, verbose if _is_main(dist) else 0,
                                                  params, aggregator)
    if do_validation and isinstance(val_adapter, ArrayAdapter):
        for cb in callback_list:
            cb.validation_data = val_adapter._tensors
    loop_state = LoopState(seed, initial_epoch, epochs, aggregator=aggregator, adapter=adapter)
    loop_state.callbacks = callback_list
    model._loop_state = loop_state
    model.stop_training = False
    model.stop_reason = None
    model.history = history

    reason = "completed"
    epoch_logs = {}
    try:
        callback_list.on_train_begin({})
        for after_train_begin in loop_state.after_train_begin:
            after_train_begin()
        if dist is not None:
            dist.sync_stop(model)
        epoch_logs = _run_epochs(model, callback_list, adapter, val_adapter, loop_state, validation_freq,
                                 aggregator, dist)
        if model.stop_training:
            reason = model.stop_reason or "stop_training"
    except KeyboardInterrupt as exc:
        reason = "interrupted"
        if dist is not None:
            dist.fail(exc)
        raise
    except BaseException as exc:
        reason = "error"
        if dist is not None:
            dist.fail(exc)  # lets the other ranks fail fast instead of waiting in a collective
        raise
    finally:
        model.stop_reason = reason
        loop_state.last_epoch_logs = epoch_logs
        _finish(callback_list, epoch_logs, failed=reason in ("interrupted", "error"))
        model._loop_state = None
        if dist is not None:
            dist.unwrap_model(model)
    return history


def _is_main(dist):
    return dist is None or dist.is_main


def _finish(callback_list, logs, failed):
    if not failed:
        callback_list.on_train_end(logs)
        return
    try:
        callback_list.on_train_end(logs)
    except Exception as exc:  # the original error matters more; do not mask it
        warnings.warn(f"on_train_end raised {type(exc).__name__}: {exc} while handling an earlier error")


def _run_epochs(model, callbacks, adapter, val_adapter, loop_state, validation_freq, aggregator, dist):
    """The epoch loop. Returns the last epoch's logs."""
    train_step = model.train_step
    precision_ctx = _autocast(model)
    has_begin = callbacks.has("on_train_batch_begin")
    has_end = callbacks.has("on_train_batch_end")
    epoch_logs = {}
    epoch = loop_state.start_epoch
    while epoch < loop_state.epochs:
        loop_state.epoch = epoch
        start_step = loop_state.start_step if epoch == loop_state.start_epoch else 0
        if start_step == 0:
            aggregator.reset()
        model.train()
        callbacks.on_epoch_begin(epoch, {})
        update = aggregator.update
        with precision_ctx():
            for step, batch in enumerate(adapter.epoch_batches(epoch, start_step) if start_step else
                                         adapter.epoch_batches(epoch), start_step):
                size = _batch_rows(batch[0])
                if has_begin:
                    callbacks.on_train_batch_begin(step, {"batch": step, "size": size})
                logs = train_step(batch)
                update(logs, size)
                loop_state.step = step + 1
                if has_end:
                    callbacks.on_train_batch_end(step, BatchLogs(logs, step, size))
                if dist is not None and dist.check_stop_every_step:
                    dist.sync_stop(model)  # every rank, every step, so all break at the same step
                if model.stop_training:
                    break
        adapter.on_epoch_end()
        loop_state.start_step = 0
        epoch_logs = {}
        if dist is not None:
            dist.reduce_aggregator(aggregator)  # in place: BaseLogger holds this aggregator
        if val_adapter is not None and not model.stop_training and _validation_due(epoch, validation_freq):
            loop_state.in_validation = True
            val_logs = run_test(model, val_adapter, callbacks, dist=dist)
            loop_state.in_validation = False
            epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        loop_state.step = 0
        if dist is not None:
            dist.sync_stop(model)
        epoch += 1
        loop_state.epoch = epoch
        if model.stop_training:
            break
    return epoch_logs


def _batch_rows(x):
    if isinstance(x, torch.Tensor):
        return int(x.shape[0]) if x.dim() else 1
    leaves, _ = flatten(x)
    for leaf in leaves:
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1


def _autocast(model):
    precision = model._compile_state.precision
    device = model._compile_state.device
    # The context spans many steps: autocast's cache of low-precision weight copies would
    # hand later steps the weights of the first one, so it stays off.
    if precision in ("mixed_bfloat16", "bfloat16"):
        return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=False)
    if precision in ("mixed_float16", "float16"):
        return lambda: torch.autocast(device_type=device.type, dtype=torch.float16, cache_enabled=False)
    return contextlib.nullcontext


# --- evaluation -------------------------------------------------------------------------
def run_test(model, adapter, callbacks, dist=None):
    """Run the test loop over ``adapter`` firing ``on_test_*`` hooks; returns float means."""
    was_training = model.training
    model.eval()
    aggregator = EpochAggregator()
    has_begin = callbacks.has("on_test_batch_begin")
    has_end = callbacks.has("on_test_batch_end")
    test_step = model.test_step
    callbacks.on_test_begin({})
    with torch.no_grad(), _autocast(model)():
        for step, batch in enumerate(adapter.epoch_batches(0)):
            size = _batch_rows(batch[0])
            if has_begin:
                callbacks.on_test_batch_begin(step, {"batch": step, "size": size})
            logs = test_step(batch)
            aggregator.update(logs, size)
            if has_end:
                callbacks.on_test_batch_end(step, BatchLogs(logs, step, size))
    if dist is not None:
        dist.reduce_aggregator(aggregator)
    results = aggregator.result()
    callbacks.on_test_end(dict(results))
    model.train(was_training)
    return results


def _user_callbacks(model, callbacks, params):
    user = list(callbacks or [])
    for cb in user:
        if not isinstance(cb, Callback):
            raise TypeError(f"`callbacks` must hold kerosene.callbacks.Callback instances, got {type(cb).__name__}")
    return CallbackList(user, model=model, params=params)


class _ProgbarCallback(Callback):
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


def evaluate(model, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
             callbacks=None, return_dict=False, **kwargs):
    for key in kwargs:
        if key not in _FIT_KWARGS_IGNORED:
            raise TypeError(f"evaluate() got an unexpected keyword argument {key!r}")
    require_compiled(model, "evaluating")
    verbose = _check_verbose(verbose)
    from .. import distributed
    dist = distributed.setup_for_eval(model)
    device = model._compile_state.device
    adapter = make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=False, device=device, steps=steps)
    adapter = dist.shard(adapter) if dist is not None else adapter
    sample = _first_batch(adapter)
    prepare(model, sample[0], sample[1], adapter.samples)
    names = metric_names(model)
    params = {"batch_size": batch_size, "steps": adapter.steps, "samples": adapter.samples,
              "verbose": verbose, "metrics": names}
    cb_list = _user_callbacks(model, callbacks, params)
    if verbose and _is_main(dist):
        cb_list.append(_ProgbarCallback(adapter.steps, verbose, True))
    results = run_test(model, adapter, cb_list, dist=dist)
    if return_dict:
        return results
    values = [results.get(n) for n in names if n in results]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=None, verbose=0, steps=None, callbacks=None, **kwargs):
    for key in kwargs:
        if key not in _FIT_KWARGS_IGNORED:
            raise TypeError(f"predict() got an unexpected keyword argument {key!r}")
    verbose = _check_verbose(verbose)
    device = model._compile_state.device if model._compile_state is not None else _model_device(model)
    adapter = make_adapter(x, None, None, batch_size=batch_size, shuffle=False, device=device, steps=steps)
    _prepare_for_predict(model, _first_batch(adapter)[0], adapter.samples)
    params = {"batch_size": batch_size, "steps": adapter.steps, "samples": adapter.samples, "verbose": verbose}
    cb_list = _user_callbacks(model, callbacks, params)
    if verbose:
        cb_list.append(_ProgbarCallback(adapter.steps, verbose, False))
    has_begin = cb_list.has("on_predict_batch_begin")
    has_end = cb_list.has("on_predict_batch_end")
    was_training = model.training
    model.eval()
    outputs = []
    cb_list.on_predict_begin({})
    with torch.no_grad():
        for step, batch in enumerate(adapter.epoch_batches(0)):
            if has_begin:
                cb_list.on_predict_batch_begin(step, {"batch": step, "size": _batch_rows(batch[0])})
            out = model.predict_step(batch)
            outputs.append(out)
            if has_end:
                cb_list.on_predict_batch_end(step, {"outputs": _to_numpy(out), "batch": step,
                                                    "size": _batch_rows(batch[0])})
    cb_list.on_predict_end({})
    model.train(was_training)
    return _concat(outputs)


def _prepare_for_predict(model, x, samples=None):
    if model._compile_state is not None:
        prepare(model, x, None, samples)
        return
    check = getattr(model, "check_input", None)
    if check is not None:
        check(x, samples)
    if not model.built:
        model._build_from_sample(map_tensors(torch.Tensor.cpu, x))


def _model_device(model):
    for p in model.parameters():
        if not torch.nn.parameter.is_lazy(p):
            return p.device
    return torch.device("cpu")


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype == torch.bfloat16 or value.dtype == torch.float16:
            value = value.float()
        return value.cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_numpy(v) for v in value]
    return value


def _concat(outputs):
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return _to_numpy(torch.cat([o.detach() for o in outputs]))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat([o[i] for o in outputs]) for i in range(len(first))]
    return np.asarray(outputs)


# --- single batches ---------------------------------------------------------------------
def _single_batch(model, x, y, sample_weight, class_weight=None):
    device = model._compile_state.device
    if class_weight is not None:
        sample_weight = class_weights_to_sample_weights(y, class_weight, sample_weight)
    adapter = make_adapter(x, y, sample_weight, batch_size=max(1, _rows(x)), shuffle=False, device=device)
    batch = next(iter(adapter.epoch_batches(0)))
    prepare(model, batch[0], batch[1])
    return batch


def _rows(x):
    leaves, _ = flatten(x)
    return int(np.shape(leaves[0])[0]) if leaves else 1


def _step_result(model, logs, return_dict):
    values = to_floats(logs)
    if return_dict:
        return values
    ordered = [values[n] for n in metric_names(model) if n in values]
    return ordered[0] if len(ordered) == 1 else ordered


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    require_compiled(model, "training")
    batch = _single_batch(model, x, y, sample_weight, class_weight)
    model.train()
    with _autocast(model)():
        logs = model.train_step(batch)
    return _step_result(model, logs, return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    require_compiled(model, "evaluating")
    batch = _single_batch(model, x, y, sample_weight)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logs = model.test_step(batch)
    model.train(was_training)
    return _step_result(model, logs, return_dict)


def predict_on_batch(model, x):
    device = model._compile_state.device if model._compile_state is not None else _model_device(model)
    adapter = make_adapter(x, None, None, batch_size=max(1, _rows(x)), shuffle=False, device=device)
    batch = next(iter(adapter.epoch_batches(0)))
    _prepare_for_predict(model, batch[0])
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model.predict_step(batch)
    model.train(was_training)
    return _to_numpy(out)
