"""The engine's side of data-parallel training: the DDP wrapper, reductions, stop decisions.

``kerosene.distributed.setup_for_fit`` returns a :class:`DistributedContext` when the
process belongs to a group of several; the loops call it to shard their data, wrap the
model, reduce epoch logs and agree on stopping. Each rank runs the same number of
training steps, because every step ends in a gradient all-reduce.

When ``fit`` fails on a rank, :meth:`DistributedContext.fail` tells the others which
error came first; when the failure is a collective's (a peer killed, crashed or hung),
the ranks still alive answer each other through the group's store, and each names the
ranks that did not answer in a note on its error.
"""
from __future__ import annotations

import datetime
import gc
import time

import torch
import torch.distributed as torch_dist
from torch.nn.parallel import DistributedDataParallel

from .shard_data import EqualStepsAdapter, shard_adapter

__all__ = ["DistributedContext", "NullContext", "NULL_CONTEXT"]

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")
_ERROR_COUNT = "kerosene/error_count"
_FIRST_ERROR = "kerosene/first_error"
_ALIVE = "kerosene/alive/"
_SHORT = datetime.timedelta(seconds=5)
#: Seconds the ranks left after a failed collective wait for each other's answer.
PEER_ANSWER_SECONDS = 5.0
# What gloo's and NCCL's errors for a lost or stalled peer say (they are plain RuntimeErrors).
_COMM_MARKERS = ("gloo", "nccl", "connection reset", "connection closed", "connection refused", "broken pipe",
                 "timed out", "timeout")


# --- the model ----------------------------------------------------------------------------
class _RoutingDDP(DistributedDataParallel):
    """DDP that marks when its own forward is running, so the model's forward can tell."""

    def forward(self, *args, **kwargs):
        self._kerosene_route.inside = True
        try:
            return super().forward(*args, **kwargs)
        finally:
            self._kerosene_route.inside = False


class _Route:
    inside = False


def _weighted_allreduce(context, bucket):
    """Gradient all-reduce weighted by each rank's share of the global batch's rows.

    With equal shares this is DDP's mean; with the uneven last batch it still gives the
    gradient of the mean loss over the whole global batch.
    """
    buffer = bucket.buffer()
    buffer.mul_(context.step_fraction())
    future = torch_dist.all_reduce(buffer, async_op=True).get_future()
    return future.then(lambda fut: fut.value()[0])


# --- the context --------------------------------------------------------------------------
class DistributedContext:
    """What the loops ask of torch.distributed during one ``fit`` or ``evaluate``.

    Example::

        dist = kerosene.distributed.setup_for_fit(model)   # None outside a launch
        if dist is not None:
            adapter = dist.shard(adapter)
    """

    def __init__(self, device, training=True, ddp_options=None):
        self.device = device
        self.rank = torch_dist.get_rank()
        self.world_size = torch_dist.get_world_size()
        self.is_main = self.rank == 0
        self.training = training
        backend = str(torch_dist.get_backend())
        self.comm_device = device if "nccl" in backend else torch.device("cpu")
        self.ddp_options = ddp_options or {}
        self._train_adapter = None
        self._model = None
        self._ddp = None
        self._route = _Route()
        self._saved_forward = None
        self._callbacks = None
        self._check_every_step = None

    # data
    def shard(self, adapter, evaluation=None):
        """This rank's share of ``adapter``; shuffling follows rank 0's seed on every rank."""
        evaluation = (not self.training) if evaluation is None else evaluation
        if hasattr(adapter, "seed"):
            adapter.seed = self.broadcast_int(adapter.seed)
        sharded = shard_adapter(adapter, self.rank, self.world_size, evaluation)
        if not evaluation:
            self._train_adapter = sharded
            return sharded
        return self.equal_steps(sharded)

    def equal_steps(self, adapter):
        """``adapter`` padded to as many steps as the longest rank's (FSDP: every forward is a collective).

        The ranks' evaluation shares may differ by a batch; the short ones then run forwards
        on filler batches (``EqualStepsAdapter``) that count for nothing.
        """
        steps = adapter.steps
        if steps is None:   # a per-rank generator without steps: its length is the user's to match
            return adapter
        most = self.max_int(steps)
        return adapter if most == steps else EqualStepsAdapter(adapter, most)

    def step_fraction(self):
        adapter = self._train_adapter
        return getattr(adapter, "step_fraction", 1.0 / self.world_size)

    def params(self, params):
        batch = params.get("batch_size")
        extra = {"world_size": self.world_size, "rank": self.rank}
        if isinstance(batch, int):
            extra["global_batch_size"] = batch * self.world_size
        return extra

    # model
    def wrap_model(self, model):
        """Route the model's training forward through DDP; ``state_dict`` keys stay unprefixed."""
        self._model = model
        if not any(p.requires_grad for p in model.parameters()):
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        ddp = _RoutingDDP(model, device_ids=device_ids, **self.ddp_options)
        # Plain attributes, not submodules: the model's state_dict and modules() never see DDP.
        object.__setattr__(ddp, "_kerosene_route", self._route)
        ddp.register_comm_hook(self, _weighted_allreduce)
        self._ddp = ddp
        self._saved_forward = model.__dict__.get("forward")
        plain_forward = self._saved_forward or type(model).forward.__get__(model)
        steps = getattr(getattr(model, "_compile_state", None), "steps", None)
        if steps is not None:   # jit_compile: DDP wraps the compiled forward; the step runs eagerly
            plain_forward = steps.inside_ddp(plain_forward)
        route = self._route

        def forward(*args, **kwargs):
            if route.inside or not (model.training and torch.is_grad_enabled()):
                return plain_forward(*args, **kwargs)
            return ddp(*args, **kwargs)
        object.__setattr__(model, "forward", forward)
        return model

    def unwrap_model(self, model):
        if self._ddp is None:
            return model
        steps = getattr(getattr(model, "_compile_state", None), "steps", None)
        if steps is not None:
            steps.outside_ddp()
        if self._saved_forward is not None:
            object.__setattr__(model, "forward", self._saved_forward)
        else:
            model.__dict__.pop("forward", None)
        self._ddp = None
        return model

    # decisions
    def watch(self, callbacks):
        """The running callbacks, whose batch hooks decide whether ranks agree on stopping every step."""
        self._callbacks = callbacks
        self._check_every_step = None

    @property
    def check_stop_every_step(self):
        """True when a callback with batch hooks could stop mid-epoch (then ranks agree each step)."""
        if self._check_every_step is None:
            callbacks = self._callbacks or []
            self._check_every_step = any(
                not vars(type(cb)).get("never_stops_training", False) and any(cb.overrides(h) for h in _BATCH_HOOKS)
                for cb in callbacks)
        return self._check_every_step

    def sync_stop(self, model):
        """Stop on every rank when any rank's callbacks asked to stop."""
        flag = torch.tensor([1.0 if model.stop_training else 0.0], device=self.comm_device)
        torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
        model.stop_training = bool(flag.item())

    def max_int(self, value):
        holder = torch.tensor([int(value)], dtype=torch.int64, device=self.comm_device)
        torch_dist.all_reduce(holder, op=torch_dist.ReduceOp.MAX)
        return int(holder.item())

    def broadcast_int(self, value):
        holder = torch.tensor([int(value)], dtype=torch.int64, device=self.comm_device)
        torch_dist.broadcast(holder, src=0)
        return int(holder.item())

    # logs
    def reduce_aggregator(self, aggregator):
        """Make the aggregator's means global: sums and counts added over ranks, in place."""
        sums = aggregator.sums()
        gathered = [None] * self.world_size
        torch_dist.all_gather_object(gathered, list(sums))
        keys = list(dict.fromkeys(key for names in gathered for key in names))
        if not keys:
            return aggregator
        local = []
        for key in keys:
            total, seen = sums.get(key, (None, 0.0))
            local.append(0.0 if total is None else total.detach().reshape(()).to(torch.float64).cpu().item())
            local.append(float(seen))
        both = torch.tensor(local, dtype=torch.float64, device=self.comm_device)
        torch_dist.all_reduce(both)
        values = both.cpu().tolist()
        aggregator.set_sums({key: (torch.tensor(values[2 * i], dtype=torch.float64), values[2 * i + 1])
                             for i, key in enumerate(keys)})
        return aggregator

    # failure
    def fail(self, error):
        """Record the first failing rank's error for the others, then drop the group so they fail fast.

        After a collective's error, the ranks that did not answer within
        ``PEER_ANSWER_SECONDS`` are named on ``error`` as the ones that went away.
        """
        note = gone = None
        try:
            store = torch_dist.distributed_c10d._get_default_store()
            store.set(f"{_ALIVE}{self.rank}", "1")
            if is_collective_error(error):
                gone = self._silent_ranks(store)
            if store.add(_ERROR_COUNT, 1) == 1:
                store.set(_FIRST_ERROR, f"rank {self.rank}: {type(error).__name__}: {_first_line(error)}")
            else:
                store.wait([_FIRST_ERROR], _SHORT)
                first = store.get(_FIRST_ERROR).decode()
                if not first.startswith(f"rank {self.rank}:"):
                    note = f"kerosene.distributed: the first failure was on {first}"
        except Exception:
            # The store is served by rank 0's process: unreachable, it went away with rank 0.
            if self.rank != 0 and is_collective_error(error):
                gone = [0]
        if gone and hasattr(error, "add_note"):
            error.add_note(_gone_note(gone, self.rank))
        if note and hasattr(error, "add_note"):
            error.add_note(note)
        self._close_connections()

    def _close_connections(self):
        """Close this rank's gloo connections now, so a peer blocked in a collective fails at once.

        ``destroy_process_group`` alone does not close them: gloo's sockets close only when the
        last object holding the group is freed (its ``shutdown()`` and ``abort()`` leave them
        open), and the DDP wrapper holds it through its reducer, logger and comm hook. Freed
        only by ``unwrap_model`` after ``on_train_end``, or at exit when the error's traceback
        holds the wrapper, the group kept a peer waiting as long as this rank's callbacks,
        traceback printing and teardown took, up to ``KEROSENE_DIST_TIMEOUT``.
        """
        ddp = self._ddp
        if self._model is not None:
            self.unwrap_model(self._model)
        if ddp is not None:   # a traceback frame may still hold the wrapper: drop what holds the group
            for name in ("reducer", "logger", "process_group", "_comm_hooks"):
                ddp.__dict__.pop(name, None)
        del ddp
        try:
            torch_dist.destroy_process_group()
        except Exception:
            pass
        gc.collect()   # a reference cycle may hold the group too


    def _silent_ranks(self, store):
        """The other ranks that have not said they are alive within ``PEER_ANSWER_SECONDS``."""
        deadline = time.monotonic() + PEER_ANSWER_SECONDS
        silent = [r for r in range(self.world_size) if r != self.rank]
        while silent:
            silent = [r for r in silent if not store.check([f"{_ALIVE}{r}"])]
            if not silent or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return silent


def is_collective_error(error):
    """True for the errors a collective raises when a peer is lost or stalls."""
    if isinstance(error, getattr(torch_dist, "DistError", ())):
        return True
    text = str(error).lower()
    return isinstance(error, (RuntimeError, ConnectionError)) and any(m in text for m in _COMM_MARKERS)


def _gone_note(ranks, me):
    names = ", ".join(str(r) for r in ranks)
    which = f"rank {names}" if len(ranks) == 1 else f"ranks {names}"
    return (f"kerosene.distributed: {which} went away: a collective failed on rank {me} and {which} did not "
            f"answer within {PEER_ANSWER_SECONDS:g} s (killed, crashed or hung; a hung peer is noticed after "
            "KEROSENE_DIST_TIMEOUT seconds, default 1800)")


class NullContext:
    """The single-process stand-in for :class:`DistributedContext`: every call leaves things as they are.

    Example::

        dist = kerosene.distributed.setup_for_fit(model) or NULL_CONTEXT
        adapter = dist.shard(adapter)   # the same adapter
    """

    is_main = True
    rank = 0
    world_size = 1
    check_stop_every_step = False

    def shard(self, adapter, evaluation=None):
        return adapter

    def params(self, params):
        return {}

    def wrap_model(self, model):
        return model

    def unwrap_model(self, model):
        return model

    def watch(self, callbacks):
        pass

    def sync_stop(self, model):
        pass

    def reduce_aggregator(self, aggregator):
        return aggregator

    def fail(self, error):
        pass


NULL_CONTEXT = NullContext()


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
