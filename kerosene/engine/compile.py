"""What ``compile`` decides and what follows from it: the compile state, per-output
losses and metrics, the names the logs use, and getting a model ready for its first batch.

    >>> import torch
    >>> from kerosene.engine.compile import log_names, make_compile_state
    >>> state = make_compile_state('sgd', 'mse', ['mae'], None, 'cpu', False, None, output_names=None)
    >>> log_names(state)
    ['loss', 'mae']
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from .._user_warning import warn_user
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers
from ..utils.tree import map_tensors, per_output
from .distribute_option import check_distribute
from .jit import JitSteps, check_jit_compile
from .targets import sample_weight_modes
from .training_utils import weighted_masked_objective

__all__ = ["CompileState", "resolve_device", "make_compile_state", "log_names", "output_key",
           "bind_optimizer", "check_trainable_consistency", "collected_weights_trainable", "prepare", "loss_dtype",
           "COMPILE_KWARGS_IGNORED"]

COMPILE_KWARGS_IGNORED = ("sample_weight_mode", "run_eagerly", "steps_per_execution",
                          "auto_scale_loss")
_PRECISIONS = (None, "float32", "mixed_float16", "mixed_bfloat16", "float16", "bfloat16")


def resolve_device(device):
    """``'auto'`` is CUDA when present, else CPU; a string or ``torch.device`` is taken as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device` is {device!r} but this torch has no CUDA device available; "
                         "use device='auto' or 'cpu'")
    return resolved


class CompileState:
    """The optimizer, losses, metrics and options one ``compile`` call chose.

    Kept apart from the model so torch never registers it as a submodule. Example::

        state = CompileState(optimizer, [loss], None, [[]], device=torch.device('cpu'))
    """

    def __init__(self, optimizer, losses, loss_weights, metric_specs, device, jit_compile=False,
                 precision=None, output_names=None, loss_spec=None, metrics_spec=None, distribute="auto"):
        self.optimizer = optimizer
        self.losses = losses              # list of Loss objects, one per output (None: output has no loss)
        self.loss_weights = loss_weights  # list of floats or None
        self.metric_specs = metric_specs  # per output: the identifiers the user gave
        self.metrics = None               # per output: resolved Metric objects (at first data)
        self.weighted_specs = [[] for _ in metric_specs]  # compile(weighted_metrics=...), per output
        self.weighted_metrics = None      # per output: resolved, weighed by the sample weights
        self.weighted_spec = None
        self.device = device
        self.jit_compile = jit_compile    # False, True or 'cuda_graphs'
        self.distribute = check_distribute(distribute)  # DDP ('auto'/'ddp') or FSDP settings
        self.precision = precision
        self.output_names = output_names
        self.loss_spec = loss_spec
        self.metrics_spec = metrics_spec
        self.steps = None                 # jit_compile: the compiled steps (engine.jit.JitSteps)
        self.loss_scaler = None           # torch.amp.GradScaler under float16 mixed precision
        self.constrained = ()             # layers whose weights carry constraints (set at first data)
        self.no_trainable = False         # built with no trainable weight: steps skip backward/update
        self.warned_no_trainable = False
        self.fsdp_notice_given = False    # distribute='fsdp' in one process: said once per compile
        self.target_tensors = None        # compile(target_tensors=...): one entry per output, or None
        self.bound_ids = None             # ids of the parameters kerosene bound the optimizer to
        self.regularized = None           # layers with regularizers (set at first data; None: scan)


def make_compile_state(optimizer, loss, metrics, loss_weights, device, jit_compile, precision, output_names,
                       single_name=None, weighted_metrics=None, distribute="auto", sample_weight_mode=None):
    """Check ``compile``'s arguments and resolve them into a :class:`CompileState`.

    ``single_name``: a single-output model's output name, which a ``loss``/``metrics``
    dict may key its one entry by (as Keras 2 accepts)."""
    if precision not in _PRECISIONS:
        raise ValueError(f"`precision` must be one of {_PRECISIONS}, got {precision!r}")
    distribute = check_distribute(distribute)
    if optimizer is None:
        raise ValueError("`optimizer` must be a Keras optimizer name, a kerosene optimizer or a "
                         "torch.optim.Optimizer, got None")
    opt = optimizers.get(optimizer)
    if isinstance(loss_weights, tuple):
        raise TypeError(f"`loss_weights` must be a list (one number per output) or a dict keyed by output "
                        f"name, got the tuple {loss_weights!r}")
    loss_list = _per_output(_single_entry(loss, output_names, single_name, "loss"), output_names, "loss")
    resolved_losses = [None if l is None else losses_module.get(l) for l in loss_list]
    weights = _per_output(loss_weights, output_names, "loss_weights") if loss_weights is not None else None
    if weights is not None:
        for w in weights:
            if not isinstance(w, (int, float)):
                raise TypeError(f"`loss_weights` must hold numbers, got {w!r}")
    single_metrics = _single_entry(metrics, output_names, single_name, "metrics")
    metric_specs = _metrics_per_output(_listify(single_metrics) if single_metrics is not metrics else metrics,
                                       output_names)
    single_weighted = _single_entry(weighted_metrics, output_names, single_name, "weighted_metrics")
    weighted_specs = _metrics_per_output(
        _listify(single_weighted) if single_weighted is not weighted_metrics else weighted_metrics, output_names,
        "weighted_metrics")
    modes = sample_weight_modes(sample_weight_mode, output_names or [single_name])
    device = resolve_device(device)
    state = CompileState(opt, resolved_losses, weights, metric_specs, device,
                         jit_compile=check_jit_compile(jit_compile, device), precision=precision,
                         output_names=output_names, loss_spec=loss, metrics_spec=metrics,
                         distribute=distribute)
    state.weighted_specs, state.weighted_spec = weighted_specs, weighted_metrics
    state.sample_weight_modes = modes
    return state


def _single_entry(spec, output_names, single_name, argname):
    """A dict keyed by a single-output model's output name, as that one entry."""
    if output_names is not None or not isinstance(spec, dict):
        return spec
    unknown = sorted(str(k) for k in spec if k != single_name)
    if single_name is None or unknown:
        raise ValueError(f"`{argname}` is a dict with keys {unknown or sorted(map(str, spec))} but the model has "
                         f"a single output named {single_name!r}; key it by that name or pass the value itself")
    return spec.get(single_name)


def _per_output(spec, output_names, argname):
    """Expand a loss/loss_weights spec into a list with one entry per output."""
    if output_names is None:
        if isinstance(spec, (list, tuple)):
            if len(spec) != 1:
                raise ValueError(f"`{argname}` has {len(spec)} entries but the model has one output: give one")
            return [spec[0]]
        if isinstance(spec, dict):
            raise ValueError(f"`{argname}` is a dict but the model has a single unnamed output")
        return [spec]
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(f"`{argname}` names unknown outputs {unknown}; outputs: {output_names}")
        return [spec.get(n) for n in output_names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(output_names):
            raise ValueError(f"`{argname}` has {len(spec)} entries but the model has {len(output_names)} outputs")
        return list(spec)
    return [spec] * len(output_names)


def _metrics_per_output(metrics, output_names, argname="metrics"):
    if metrics is None:
        metrics = []
    if output_names is None:
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"`{argname}` must be a list of metrics, got {type(metrics).__name__}")
        return [list(metrics)]
    if isinstance(metrics, dict):
        unknown = [k for k in metrics if k not in output_names]
        if unknown:
            raise ValueError(f"`{argname}` names unknown outputs {unknown}; outputs: {output_names}")
        return [_listify(metrics.get(n)) for n in output_names]
    if metrics and all(isinstance(m, (list, tuple)) for m in metrics) and len(metrics) == len(output_names):
        return [list(m) for m in metrics]
    return [list(metrics) for _ in output_names]


def _listify(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- log names ----------------------------------------------------------------------------
def output_key(output, name):
    """The log key of one output's loss or metric: ``'<output>_<name>'`` (``out_loss``, ``out_acc``)."""
    return f"{output}_{name}"


def log_names(state):
    """Names of the values one step logs, in order: ``['loss', 'acc', ...]``."""
    if state is None:
        return []
    names = ["loss"]
    specs = state.metrics if state.metrics is not None else state.metric_specs
    weighted = state.weighted_metrics if state.weighted_metrics is not None else state.weighted_specs
    for i, out in enumerate(state.output_names or [None]):
        if out is not None and len(state.losses) > 1 and state.losses[i] is not None:
            names.append(output_key(out, "loss"))
        names += [_log_key(out, _metric_name(m)) for m in specs[i]]
        names += [_log_key(out, "weighted_" + _metric_name(m)) for m in weighted[i]]
    return names


def _log_key(output, name):
    return name if output is None else output_key(output, name)


def stateful_metrics(state):
    """``(log key, metric)`` of each stateful metric (Keras 2.2: a running value it keeps itself)."""
    if state is None or not state.metrics:
        return []
    return [(_log_key(out, m.name), m) for i, out in enumerate(state.output_names or [None])
            for m in state.metrics[i] if getattr(m, "stateful", False)]


def metric_logs(state, i, output, y, y_pred, sample_weight, mask=None):
    """Output ``i``'s metric values on a batch: each metric under its name, and each of
    ``weighted_metrics`` under ``weighted_<name>``, weighed as Keras 2 weighs a loss
    (``sum(w * value) / count(w != 0)`` over the batch; unweighted without sample weights).
    With the output's ``mask`` (Keras 2 masks metrics as it masks losses) each stateless
    metric is the mean over the unmasked steps."""
    logs = {_log_key(output, m.name): _masked_value(m, y, y_pred, mask) for m in state.metrics[i]}
    for metric in state.weighted_metrics[i] if state.weighted_metrics else ():
        if sample_weight is None and mask is None:
            value = metric(y, y_pred)
        elif metric.stateful:
            value = metric(y, y_pred)   # a running value has no per-sample scores to weigh
        else:
            value = weighted_masked_objective(metric.call)(y, y_pred, sample_weight, mask)
        logs[_log_key(output, "weighted_" + metric.name)] = value
    return logs


def _masked_value(metric, y, y_pred, mask):
    if mask is None or metric.stateful:
        return metric(y, y_pred)
    score = metric.call(y, y_pred)
    if not isinstance(score, torch.Tensor) or score.dim() < mask.dim():
        return metric(y, y_pred)    # a batch-level value: nothing per step to mask
    score = score.to(torch.float32)
    if score.dim() > mask.dim():
        score = score.mean(dim=tuple(range(mask.dim(), score.dim())))
    mask = mask.to(score.dtype)
    return (score * mask).sum() / mask.sum().clamp_min(torch.finfo(score.dtype).tiny)


def _metric_name(metric):
    if isinstance(metric, str):
        return metric
    name = getattr(metric, "name", None)
    if isinstance(name, str):
        return name
    return getattr(metric, "__name__", type(metric).__name__)


# --- the first batch ----------------------------------------------------------------------
def bind_optimizer(model, compiling=False):
    """Give a kerosene optimizer the model's trainable parameters (once it has them; and
    once per ``compile`` when it was built for another model: Keras 2 code compiles one
    optimizer object into several models, and ``build`` adds only what it lacks).

    A model with none trains with a warning (as Keras 2 compiles it): its steps run the
    forward pass and the losses but update nothing.
    """
    state = model._compile_state
    optimizer = state.optimizer
    first_for_model = compiling or state.bound_ids is None
    if getattr(optimizer, "built", True) is not False and not (
            first_for_model and isinstance(optimizer, optimizers.Optimizer)):
        return
    trainable = [p for p in model.parameters() if p.requires_grad]
    state.no_trainable = not trainable
    if trainable:
        optimizer.build(trainable)
        state.bound_ids = {id(p) for p in trainable}
    elif not state.warned_no_trainable:
        state.warned_no_trainable = True
        warn_user(f"Model {getattr(model, 'name', type(model).__name__)!r} has no trainable weights: fit and "
                  "train_on_batch run it and compute the losses but change no weight", UserWarning)


def check_trainable_consistency(model):
    """Keras 2's warning when ``trainable`` changed after ``compile``: the optimizer kerosene
    bound then still holds the old set of weights until the next ``compile``. Returns the
    weights collected at ``compile`` and frozen since, which this model's training still
    updates (Keras 2's GAN recipe: ``discriminator.trainable = False`` after compiling it)."""
    state = model._compile_state
    if state is None or state.bound_ids is None:
        return []
    if {id(p) for p in model.parameters() if p.requires_grad} == state.bound_ids:
        return []
    warn_user("Discrepancy between trainable weights and collected trainable weights, did you set "
              "`model.trainable` without calling `model.compile` after ?", UserWarning)
    return [p for p in model.parameters() if id(p) in state.bound_ids and not p.requires_grad]


@contextlib.contextmanager
def collected_weights_trainable(frozen):
    """Within it, the weights ``frozen`` (from :func:`check_trainable_consistency`) get gradients."""
    for p in frozen:
        p.requires_grad_(True)
    try:
        yield
    finally:
        for p in frozen:
            p.requires_grad_(False)


def prepare(model, x_sample, y_sample=None, samples=None):
    """Build a lazy model from a sample batch, place it on the device, bind the optimizer, resolve metrics."""
    state = model._compile_state
    check = getattr(model, "check_input", None)
    if check is not None:
        check(x_sample, samples)
    if not model.built:
        model.cpu()
        model._build_from_sample(map_tensors(torch.Tensor.cpu, x_sample))
    _move_model(model, state.device)
    bind_optimizer(model)
    state.regularized = tuple(m for m in model.modules() if m is not model and hasattr(m, "regularization_loss"))
    state.constrained = tuple(m for m in model.modules() if any(
        getattr(spec, "constraint", None) is not None for spec in getattr(m, "_weight_specs", ())))
    if state.metrics is None and y_sample is not None:
        ys = [y_sample] if state.output_names is None else per_output(y_sample, state.output_names)
        shapes = [tuple(t.shape) if isinstance(t, torch.Tensor) else None for t in ys]

        def resolve(all_specs):
            return [[metrics_module.get(m, loss=state.losses[i] if i < len(state.losses) else None,
                                        output_shape=shapes[i]) for m in specs] for i, specs in enumerate(all_specs)]
        state.metrics, state.weighted_metrics = resolve(state.metric_specs), resolve(state.weighted_specs)
    if state.precision in ("mixed_float16", "float16") and state.loss_scaler is None:
        # float16 gradients underflow without loss scaling (Keras wraps the optimizer in a
        # LossScaleOptimizer for mixed_float16); torch's GradScaler is the same dynamic scheme.
        state.loss_scaler = torch.amp.GradScaler(state.device.type)
    if state.jit_compile and state.steps is None:
        state.steps = JitSteps(model, cuda_graphs=state.jit_compile == "cuda_graphs")


def _move_model(model, device):
    for p in model.parameters():
        if p.device != device:
            model.to(device)
        return


def model_device(model):
    """The device of the model's first materialised parameter (CPU when it has none)."""
    for p in model.parameters():
        if not nn.parameter.is_lazy(p):
            return p.device
    return torch.device("cpu")


def loss_dtype(y_pred):
    """Losses are computed in float32 as in Keras (its Loss dtype), even when a mixed
    precision forward produced bfloat16/float16 outputs."""
    if isinstance(y_pred, torch.Tensor) and y_pred.dtype in (torch.bfloat16, torch.float16):
        return y_pred.float()
    return y_pred
