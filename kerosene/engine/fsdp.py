"""``compile(distribute='fsdp')`` under a launch: the model sharded with ``fully_shard`` (FSDP2).

Each kerosene layer with weights (each top-level child of a plain ``nn.Module``, or the
modules the user's ``shard`` function marks) becomes one FSDP unit, then the root. The
optimizer is re-bound to the sharded (DTensor) parameters, so its state is sharded too.
Data sharding, log reduction, stop decisions and the failure path are the DDP context's;
on failure the sharded model's hold on the process group is dropped first, so the group's
connections close and a peer blocked in one of FSDP's collectives fails at once.

Example::

    context = FSDPContext(torch.device('cpu'), FSDP())
    context.wrap_model(model)     # model's parameters are now DTensor shards
"""
from __future__ import annotations

import weakref

import torch
from torch.distributed import ProcessGroup
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import CPUOffloadPolicy, FSDPModule, MixedPrecisionPolicy, OffloadPolicy, fully_shard
from torch.distributed.tensor import DTensor, distribute_tensor

from ..layers import Layer
from ..utils.tree import flatten
from .distributed import DistributedContext

__all__ = ["FSDPContext", "shard_units"]

_ROWS_HOOKS = weakref.WeakKeyDictionary()   # model -> its row-weighting hook, one at a time


def shard_units(model, shard):
    """The modules made FSDP units below the root, outermost first, none inside another."""
    if shard == "root":
        return []
    if callable(shard):
        marked = lambda m: _has_forward(m) and shard(m)  # noqa: E731
    elif isinstance(model, Layer) and any(isinstance(m, Layer) for m in model.modules() if m is not model):
        marked = lambda m: isinstance(m, Layer) and _has_forward(m) and _owns_weights(m)  # noqa: E731
    else:
        return [child for child in model.children() if _has_forward(child) and _owns_weights(child)]
    units = []

    def visit(module):
        for child in module.children():
            if marked(child):
                units.append(child)
            else:
                visit(child)
    visit(model)
    return units


def _has_forward(module):
    """False for containers (a ModuleList of layers): fully_shard needs a forward to hook."""
    return type(module).forward is not torch.nn.Module.forward


def _owns_weights(module):
    return any(True for _ in module.parameters())


class FSDPContext(DistributedContext):
    """The distributed context of a fully sharded model (see the module's docstring).

    Example::

        context = FSDPContext(device, kerosene.distributed.FSDP(reshard_after_forward=False))
    """

    def __init__(self, device, option, training=True):
        super().__init__(device, training=training)
        self.option = option
        self._rows_hook = None

    def wrap_model(self, model):
        """Shard the model once (it stays sharded after ``fit``) and re-bind its optimizer."""
        self._model = model
        if not any(p.requires_grad for p in model.parameters()):
            return model
        stale = _ROWS_HOOKS.pop(model, None)
        if stale is not None:   # a fit that failed before its loop began never unwrapped
            stale.remove()
        self._rows_hook = _ROWS_HOOKS[model] = model.register_forward_hook(self._weight_by_rows)
        if isinstance(model, FSDPModule):
            return model
        before = dict(model.named_parameters())
        mesh = init_device_mesh(self.device.type, (self.world_size,))
        option = self.option
        settings = dict(mesh=mesh, reshard_after_forward=option.reshard_after_forward,
                        mp_policy=_precision_policy(option, model._compile_state.precision),
                        offload_policy=CPUOffloadPolicy() if option.cpu_offload else OffloadPolicy())
        for unit in shard_units(model, option.shard):
            fully_shard(unit, **settings)
        fully_shard(model, **settings)
        after = dict(model.named_parameters())
        _rebind_optimizer(model._compile_state, {id(before[name]): after[name] for name in before})
        return model

    def unwrap_model(self, model):
        if self._rows_hook is not None:
            self._rows_hook.remove()
            _ROWS_HOOKS.pop(model, None)
            self._rows_hook = None
        return model

    def _close_connections(self):
        """Let go of the group FSDP's own objects hold, then close it as the DDP context does.

        The mesh and each unit's mesh info keep the group object, and with it gloo's sockets,
        alive after ``destroy_process_group``: a peer blocked in an all-gather or reduce-scatter
        issued by FSDP's hooks (or in a stop check) then waited out the collective timeout.
        The model can no longer run FSDP collectives afterwards; neither could it with the group gone.
        """
        model = self._model
        try:
            if model is not None:
                meshes = [p.device_mesh for p in model.parameters() if isinstance(p, DTensor)]
                states = [m._get_fsdp_state() for m in model.modules() if isinstance(m, FSDPModule)]
                _drop_process_groups(states + meshes)
        except Exception:
            pass   # the error being handled matters more; the group then closes when the process ends
        super()._close_connections()

    def _weight_by_rows(self, module, args, output):
        """Scale the gradient flowing back from the outputs by ``world * rows / global rows``.

        FSDP averages gradients over ranks; in a global batch split unevenly (the last one)
        the mean loss over all its rows needs each rank weighted by its share, as the DDP
        comm hook weights it. Penalties on the weights do not pass through the outputs and
        stay unscaled, which FSDP's mean over ranks leaves counted once, as one process does.
        """
        if not (module.training and torch.is_grad_enabled()):
            return
        factor = self.step_fraction() * self.world_size
        if factor != 1.0:
            for tensor in flatten(output)[0]:
                if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
                    tensor.register_hook(lambda grad, factor=factor: grad * factor)


def _drop_process_groups(roots):
    """Remove each ProcessGroup held in an attribute or dict reachable from ``roots`` through torch.distributed objects.

    A walk rather than named attributes: which FSDP object keeps the group (mesh registry,
    mesh infos, a separate reduce-scatter group, HSDP's replicate group) varies with the
    options and the torch version. Only objects of torch.distributed's own classes are
    entered, modules and tensors never (FSDP's module classes live in torch.distributed too).
    """
    seen, todo = set(), list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
            continue
        if isinstance(obj, dict):
            fields = obj
        elif isinstance(obj, (torch.nn.Module, torch.Tensor)):
            continue
        elif type(obj).__module__.startswith("torch.distributed") and hasattr(obj, "__dict__"):
            fields = vars(obj)
        else:
            continue
        for key, value in list(fields.items()):
            if isinstance(value, ProcessGroup):
                if fields is obj:
                    del obj[key]
                else:
                    setattr(obj, key, None)
            else:
                todo.append(value)


def _precision_policy(option, precision):
    """The user's policy; else ``mixed_bfloat16`` gathers bfloat16 parameters and reduces gradients in float32.

    The float32 shards stay the master weights the optimizer updates; autocast still runs
    around the steps, as it does without FSDP.
    """
    if option.mixed_precision is not None:
        return option.mixed_precision
    if precision == "mixed_bfloat16":
        return MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    return MixedPrecisionPolicy()


def _rebind_optimizer(state, sharded):
    """Point the optimizer's groups (and any state it holds) at the sharded parameters."""
    optimizer = state.optimizer
    moved = {}
    for group in optimizer.param_groups:
        group["params"] = [sharded.get(id(p), p) for p in group["params"]]
    for param, slots in list(optimizer.state.items()):
        new = sharded.get(id(param))
        if new is None:
            continue
        moved[new] = {key: _like(value, new) for key, value in slots.items()}
        del optimizer.state[param]
    optimizer.state.update(moved)
    state.bound_ids = {id(p) for g in optimizer.param_groups for p in g["params"] if p.requires_grad}


def _like(value, param):
    """A full optimizer-state tensor shaped like ``param``, sharded as ``param`` is."""
    if isinstance(value, torch.Tensor) and isinstance(param, DTensor) and value.shape == param.shape:
        return distribute_tensor(value.to(param.device), param.device_mesh, param.placements)
    return value
