"""``compile(jit_compile=True)``: the model's whole train, test and predict steps through ``torch.compile``.

``train_step`` as written (forward, loss, backward, clipping, the optimizer's update,
constraints, metrics; a user's override just the same) is compiled into one graph:
``loss.backward()`` is traced (dynamo's ``trace_autograd_ops``) instead of breaking the
graph. Kerosene optimizers (Nadam too: its momentum-cache product is a tensor) hold the
learning rates and the step count in tensors
(:meth:`~kerosene.optimizers.base.Optimizer.use_tensor_hyperparameters`), so LR changes
from callbacks never recompile.

Two cases run ``train_step`` eagerly, with a warning (test and predict steps are still
compiled), because every way of compiling them tried on torch 2.13 trains wrongly:

- a plain torch optimizer. Its ``zero_grad`` is on dynamo's skip list, so the graph breaks
  there and ``backward`` lands in a later graph, cut off from the forward's autograd graph;
  with a traceable ``zero_grad`` and ``step`` outside the graph (``torch.compiler.disable``,
  eager or ``torch.compile(opt.step)`` apart, as torch documents) the traced backward
  assigned gradients to the wrong parameters ("gradient of size [3] to a tensor of size
  [3, 8]"); traced whole, dynamo breaks at ``backward`` and the resumed ``step`` fails.
- ``mixed_float16``/``float16`` (a GradScaler): ``scaler.step`` reads its inf checks
  with ``.item()``, the graph breaks at ``backward`` and the step fails ("No inf checks were
  recorded"). ``mixed_bfloat16`` needs no scaler and is compiled.

Batch sizes: each step is compiled with static shapes for the first batch size it
meets in a loop; a batch of another size (an epoch's last, smaller batch) runs the
same step eagerly. Static shapes keep the full-size graph as fast as torch makes it
(and are what CUDA graphs need); marking the batch dimension dynamic would cost every
step a little to save one eager step per epoch.

Each compiled step runs on its own copy of the step's code object, so dynamo's
``recompile_limit`` (counted per code object) never sends the ninth model eagerly.

``train_step`` is compiled with ``fullgraph=True``: a step that would break the graph (a
user's ``.item()``, a print) is refused while dynamo traces, before anything ran, and then
runs eagerly with a warning, since a traced backward across a graph break trains wrongly
(see above). Test and predict steps have no backward and may break the graph.

Under DDP only the model's forward is compiled, inside DDP (:meth:`JitSteps.inside_ddp`).

``jit_compile='cuda_graphs'`` compiles with ``mode='reduce-overhead'`` (CUDA graphs
replayed from static buffers); on a CPU it is refused at ``compile()``.

    steps = JitSteps(model, cuda_graphs=False)
    logs = steps.train(batch)        # the compiled train_step, or eager for an odd-sized batch
"""
from __future__ import annotations

import logging
import types

import torch

from .._user_warning import warn_user
from ..saving.sharded_weights import is_sharded
from ..utils.tree import flatten, map_tensors

__all__ = ["JitSteps", "CompiledStep", "batch_rows", "check_jit_compile"]


class _QuietProfilerRanges(logging.Filter):
    """Drops dynamo's "Profiler record function ... will be ignored", logged at each first compile.

    The ranges are torch's own (``Optimizer.zero_grad``); leaving them out of the graph
    changes nothing a user can act on, and ``fit`` prints nothing new unless verbose.
    """

    def filter(self, record):
        return not str(record.msg).startswith("Profiler record function")


def _quiet_profiler_ranges():
    logger = logging.getLogger("torch._dynamo.variables.ctx_manager")
    if not any(isinstance(f, _QuietProfilerRanges) for f in logger.filters):
        logger.addFilter(_QuietProfilerRanges())


def check_jit_compile(jit_compile, device):
    """The mode ``compile()`` was asked for: False, True or ``'cuda_graphs'``."""
    if not (jit_compile is True or jit_compile is False or jit_compile is None
            or jit_compile in ("auto", "cuda_graphs")):
        raise ValueError(f"`jit_compile` must be True, False, 'auto' or 'cuda_graphs', got {jit_compile!r}")
    if jit_compile == "cuda_graphs" and device.type != "cuda":
        raise ValueError(f"`jit_compile='cuda_graphs'` needs a CUDA device, but the model trains on "
                         f"{device.type!r}; use jit_compile=True there")
    return jit_compile if jit_compile in (True, "cuda_graphs") else False


def batch_rows(x):
    """The number of rows (samples) in a batch's inputs: the first dimension of its first tensor."""
    if isinstance(x, torch.Tensor):
        return int(x.shape[0]) if x.dim() else 1
    leaves, _ = flatten(x)
    for leaf in leaves:
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return 1


def _inputs(batch):
    return batch[0] if isinstance(batch, tuple) else batch


class CompiledStep:
    """One step function compiled for one batch size; batches of other sizes run it eagerly.

    ``before`` runs outside the graph before each compiled call (copying hyper-parameters
    into their tensors). Example::

        step = CompiledStep(model.test_step)
        logs = step((x, y, None))
    """

    def __init__(self, fn, before=None, cuda_graphs=False, fullgraph=False):
        _quiet_profiler_ranges()
        self.eager = fn
        self.compiled = torch.compile(_own_code(fn), dynamic=False, fullgraph=fullgraph,
                                      mode="reduce-overhead" if cuda_graphs else None)
        self.fullgraph = fullgraph
        self.before = before
        self.paused = False    # True: every batch runs eagerly (the step around DDP's compiled forward)
        self.cuda_graphs = cuda_graphs
        self.rows = None

    def __call__(self, batch):
        rows = batch_rows(_inputs(batch))
        if self.rows is None:
            self.rows = rows
        if self.before is not None:
            self.before()
        if rows != self.rows or self.compiled is None or self.paused:
            return self.eager(batch)
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        # The flag is read while dynamo traces (first call, recompiles), so it is set around each call;
        # set directly, not with config.patch (a context manager: ~4x the cost per step).
        config = torch._dynamo.config
        was = config.trace_autograd_ops
        config.trace_autograd_ops = True
        try:
            out = self.compiled(batch)
        except torch._dynamo.exc.Unsupported as error:
            if not self.fullgraph:
                raise
            # fullgraph refuses a graph break while tracing, before anything ran: eager is safe.
            reason = str(error).strip().splitlines()[0]
            model = getattr(self.eager, "__self__", None)
            why = (" (torch 2.13 cannot trace the hooks of FSDP2, which shards this model: under "
                   "distribute='fsdp' train_step runs eagerly)" if model is not None and is_sharded(model) else "")
            warn_user(f"jit_compile: {getattr(self.eager, '__name__', 'the step')} breaks the graph ({reason}){why}; "
                      "a backward traced across a graph break trains wrongly on torch 2.13, so it runs eagerly")
            self.compiled = None
            return self.eager(batch)
        finally:
            config.trace_autograd_ops = was
        if self.cuda_graphs:  # the next replay overwrites the graph's outputs; logs are read later
            out = map_tensors(torch.Tensor.clone, out)
        return out


def _own_code(fn):
    """``fn`` (a bound method) rebuilt on a copy of its code object.

    dynamo keeps its compiled entries on the code object, and every model's ``train_step``
    shares one: guarded on each model, the ninth model would hit ``recompile_limit`` and
    silently run eagerly. A copy per compiled step gives each model its own cache.
    """
    func = getattr(fn, "__func__", None)
    if not isinstance(func, types.FunctionType):
        return fn
    own = types.FunctionType(func.__code__.replace(), func.__globals__, func.__name__,
                             func.__defaults__, func.__closure__)
    own.__kwdefaults__, own.__qualname__ = func.__kwdefaults__, func.__qualname__
    own.__wrapped__ = func
    return types.MethodType(own, fn.__self__)


class JitSteps:
    """The compiled ``train_step``, ``test_step`` and ``predict_step`` of one compiled model.

    Example::

        steps = JitSteps(model)
        logs = steps.train((x, y, None))  # the loops reset steps.train.rows at their start
    """

    def __init__(self, model, cuda_graphs=False):
        optimizer = model._compile_state.optimizer
        use_tensors = getattr(optimizer, "use_tensor_hyperparameters", None)
        sync = None
        if use_tensors is None:   # (why: the module docstring)
            warn_user(f"jit_compile: the torch optimizer {type(optimizer).__name__} is not compiled, so "
                      "train_step runs eagerly (test and predict steps are compiled); use a kerosene "
                      "optimizer to compile the whole step")
        elif model._compile_state.loss_scaler is not None:
            warn_user("jit_compile: the float16 loss scaler (GradScaler) cannot be compiled, so train_step "
                      "runs eagerly (test and predict steps are compiled); mixed_bfloat16 compiles whole")
        elif use_tensors():
            sync = optimizer.sync_hyperparameters
        elif optimizer.built:     # (unbuilt: the model has no trainable weights; nothing to update)
            warn_user(f"jit_compile: {type(optimizer).__name__}'s update needs Python floats, so "
                      "train_step runs eagerly (test and predict steps are compiled)")
        if cuda_graphs:
            _mark_static(optimizer)
        self.train = (CompiledStep(model.train_step, before=sync, cuda_graphs=cuda_graphs, fullgraph=True)
                      if sync is not None else model.train_step)
        self.test = CompiledStep(model.test_step, cuda_graphs=cuda_graphs)
        self.predict = CompiledStep(model.predict_step, cuda_graphs=cuda_graphs)
        self._ddp_forward = None

    def inside_ddp(self, forward):
        """``forward`` compiled, for DDP to wrap; ``train`` runs eagerly around it until :meth:`outside_ddp`.

        DDP all-reduces from hooks its reducer puts on each parameter's gradient accumulator;
        a backward traced into the step's graph never runs them, so under DDP the backward
        stays eager and only the model's forward is compiled (the compiled module inside DDP).
        """
        func = getattr(forward, "__func__", forward)
        if self._ddp_forward is None or self._ddp_forward[0] is not func:
            self._ddp_forward = (func, torch.compile(_own_code(forward), dynamic=False))
        if isinstance(self.train, CompiledStep):
            self.train.paused = True
        return self._ddp_forward[1]

    def outside_ddp(self):
        """The whole train step compiled again (DDP unwrapped at the end of ``fit``)."""
        if isinstance(self.train, CompiledStep):
            self.train.paused = False


def _mark_static(optimizer):
    # CUDA graphs replay from fixed addresses: state the update mutates must never move.
    tensors = [getattr(optimizer, "_step_tensor", None), *getattr(optimizer, "_lr_tensors", ())]
    for state in optimizer.state.values():
        tensors += [t for t in state.values() if isinstance(t, torch.Tensor)]
    for t in tensors:
        if isinstance(t, torch.Tensor):
            torch._dynamo.mark_static_address(t)
