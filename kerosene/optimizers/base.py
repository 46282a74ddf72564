"""The base class of kerosene's Keras-named optimizers.

A kerosene optimizer is a :class:`torch.optim.Optimizer` that can exist before the
model's parameters do: ``RMSprop(learning_rate=1e-3)`` stores its hyperparameters,
and ``opt.build(model.parameters())`` (called by ``Model.compile``) binds it. From
then on it is an ordinary torch optimizer: ``param_groups``, ``state``,
``zero_grad()``, ``step()``, ``state_dict()``/``load_state_dict()`` and torch's LR
schedulers all work.

Arguments shared by every optimizer (Keras 2 names plus Keras 3's additions):

- ``learning_rate`` (alias ``lr``): the base learning rate, a float >= 0.
  It and every other hyperparameter (``momentum``, ``rho``, ``beta_1``, ``beta_2``,
  ``epsilon``, ``decay`` ...) is an attribute that ``K.get_value``/``K.set_value``
  read and write, as in Keras 2; the next step uses the new value.
- ``decay``: Keras 2 time-based decay, ``lr_t = lr / (1 + decay * iterations)``.
- ``clipnorm``: clip each gradient tensor to this L2 norm (Keras 3 semantics: per
  tensor; Keras 2.2 clipped by the norm of all gradients, which is
  ``global_clipnorm`` here).
- ``clipvalue``: clip each gradient element to ``[-clipvalue, clipvalue]``.
- ``global_clipnorm``: clip all gradients together to this global L2 norm.
- ``weight_decay``: decoupled weight decay applied before the update, as Keras 3
  does: ``p *= 1 - weight_decay * lr_t``.

Gradients are clipped out of place: ``p.grad`` is left as autograd produced it.

Speed notes: each update is a handful of ``torch._foreach_*`` calls per parameter
group and never synchronises with the device (the step counter is a Python int, or
a tensor under ``jit_compile``).
Running averages such as RMSprop's and Adam's second moments can decay into
denormal floats, which are several times slower on x86 CPUs; kerosene does not flip
global flags for you, but ``torch.set_flush_denormal(True)`` avoids the slowdown.
"""

import numbers
from collections import OrderedDict, defaultdict

import numpy as np
import torch

from ..backend import BoundCount, BoundHyperparameter
from .checks import check_bool, check_float
from .updates import clip_gradients

__all__ = ["Optimizer"]

# Keras 3 config keys that kerosene accepts in ``from_config`` only at their
# default (disabled) value: a config written by Keras 3 loads, a feature we do not
# implement is refused instead of being silently ignored.
_KERAS3_DISABLED_DEFAULTS = {
    "use_ema": False,
    "ema_momentum": None,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "jit_compile": None,
    "is_legacy_optimizer": None,
}

_HOOK_DICTS = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


def _tensors_from_arrays(state_dict):
    """State read back from files may hold numpy arrays: make them tensors."""
    state = state_dict.get("state")
    if not isinstance(state, dict):
        return state_dict
    fixed = {}
    for key, entry in state.items():
        if isinstance(entry, dict):
            entry = {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
                     for k, v in entry.items()}
        fixed[key] = entry
    return {**state_dict, "state": fixed}


class Optimizer(torch.optim.Optimizer):
    """Base class: a Keras-style optimizer that is also a ``torch.optim.Optimizer``.

    Subclasses declare their hyperparameters in ``__init__`` (passed to this class
    as ``hyper``), optionally ``_state_names``/``_init_state`` for per-parameter
    state, and implement ``_update(group, params, grads, lr, step)`` with
    ``torch._foreach_*`` operations.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import SGD
        >>> opt = SGD(learning_rate=0.1)          # no parameters yet
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt.build([w])
        >>> w.sum().backward(); opt.step()
        >>> w.detach().tolist(), opt.iterations
        ([0.8999999761581421, 0.8999999761581421], 1)
    """

    _default_name = "optimizer"
    # False where ``_update`` needs Python floats (``jit_compile`` then runs train_step eagerly).
    _tensor_hyperparameters = True
    # names of the per-parameter state tensors, created as zeros on first step
    _state_names = ()

    def __init__(self, learning_rate, hyper=None, name=None, *, decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, **kwargs):
        owner = type(self).__name__
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        if kwargs:
            bad = sorted(kwargs)[0]
            raise TypeError(
                f"{owner}() got an unexpected keyword argument {bad!r}. Accepted: "
                f"learning_rate (or lr), {', '.join(hyper or {})}"
                f"{', ' if hyper else ''}name, decay, clipnorm, clipvalue, "
                f"global_clipnorm, weight_decay."
            )
        lr = check_float("learning_rate", learning_rate, low=0.0, owner=owner)
        self.name = name if name is not None else self._default_name
        if not isinstance(self.name, str):
            raise TypeError(f"{owner}: `name` must be a str, got {name!r}.")
        self._decay = check_float("decay", decay, low=0.0, owner=owner)
        self.clipnorm = check_float("clipnorm", clipnorm, low=0.0, low_open=True,
                                    allow_none=True, owner=owner)
        self.clipvalue = check_float("clipvalue", clipvalue, low=0.0, low_open=True,
                                     allow_none=True, owner=owner)
        self.global_clipnorm = check_float("global_clipnorm", global_clipnorm,
                                           low=0.0, low_open=True, allow_none=True,
                                           owner=owner)
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(
                f"{owner}: set at most one of `clipnorm` and `global_clipnorm`; got "
                f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}."
            )
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0,
                                        allow_none=True, owner=owner)
        self._hyper_names = tuple(hyper or ())
        defaults = {"lr": lr}
        defaults.update(hyper or {})
        # State of an unbuilt optimizer: enough for repr, hooks and the properties.
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        for hooks in _HOOK_DICTS:
            setattr(self, hooks, OrderedDict())
        self._iterations = 0
        # Under jit_compile: the step count and learning rates as tensors, the groups a step reads.
        self._step_tensor, self._lr_tensors, self._lr_values, self._jit_groups = None, (), (), ()
        self._built = False
        self._pending_state = None

    # ------------------------------------------------------------------ binding
    @property
    def built(self):
        """True once ``build(params)`` has bound the optimizer to parameters."""
        return self._built

    def build(self, params):
        """Bind the optimizer to ``params`` (tensors or torch param-group dicts).

        Calling it again adds the parameters it does not hold yet (a new param group
        with the current hyperparameters): as in Keras 2, one optimizer object may be
        compiled into several models (a GAN's discriminator and combined model); each
        step updates the parameters that have gradients, and ``iterations`` is shared.
        """
        params = list(params)
        if self._built:
            mine = {id(p) for g in self.param_groups for p in g["params"]}
            new = [p for p in params if not isinstance(p, dict) and id(p) not in mine]
            new_groups = [g for g in params if isinstance(g, dict)]
            for group in new_groups:
                group = dict(group, params=[p for p in group["params"] if id(p) not in mine])
                if group["params"]:
                    self.add_param_group(group)
            if new:
                self.add_param_group({"params": new})
            return
        if not params:
            raise ValueError(
                f"{type(self).__name__}.build() got an empty parameter list: the "
                f"model has no trainable parameters."
            )
        hooks = {name: getattr(self, name) for name in _HOOK_DICTS}
        torch.optim.Optimizer.__init__(self, params, self.defaults)
        for name, value in hooks.items():
            getattr(self, name).update(value)
        self._built = True
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.load_state_dict(pending)

    # ------------------------------------------------------------ properties
    @property
    def learning_rate(self):
        """The base learning rate as a Python float (first param group's)."""
        groups = self.param_groups
        lr = groups[0]["lr"] if groups else self.defaults["lr"]
        return BoundHyperparameter(lr, self, "learning_rate")

    @learning_rate.setter
    def learning_rate(self, value):
        value = check_float("learning_rate", value, low=0.0, owner=type(self).__name__)
        self.defaults["lr"] = value
        for group in self.param_groups:
            group["lr"] = value

    lr = learning_rate

    @property
    def decay(self):
        """Keras 2's time-based decay: ``lr / (1 + decay * iterations)``."""
        return BoundHyperparameter(self._decay, self, "decay")

    @decay.setter
    def decay(self, value):
        self._decay = check_float("decay", value, low=0.0, owner=type(self).__name__)

    def __getattr__(self, name):
        # Keras exposes each hyperparameter as an attribute (opt.momentum, opt.beta_1 ...);
        # read from the first param group so K.set_value(opt.momentum, v) writes it back.
        if name in self.__dict__.get("_hyper_names", ()):
            groups = self.__dict__["param_groups"]
            value = (groups[0] if groups else self.__dict__["defaults"])[name]
            return value if isinstance(value, bool) else BoundHyperparameter(value, self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name in self.__dict__.get("_hyper_names", ()):
            owner = type(self).__name__
            value = check_bool(name, value, owner) if isinstance(self.defaults[name], bool) else \
                check_float(name, value, low=0.0, owner=owner)
            self.defaults[name] = value
            for group in self.param_groups:
                group[name] = value
            return
        super().__setattr__(name, value)

    @property
    def iterations(self):
        """Steps taken (Keras's ``optimizer.iterations``), an int ``K.set_value(opt.iterations, n)`` sets."""
        count = int(self._step_tensor.item()) if self._step_tensor is not None else self._iterations
        return BoundCount(count, self, "iterations")

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"`iterations` must be an int >= 0, got {value!r}.")
        self._iterations = int(value)
        if self._step_tensor is not None:
            self._step_tensor.fill_(self._iterations)

    def use_tensor_hyperparameters(self):
        """Hold the step count and learning rates in 0-d tensors (and create all state now) so a
        compiled step never recompiles when they change; ``param_groups[i]['lr']`` stays the float
        callbacks write (:meth:`sync_hyperparameters` copies it in). False if unbuilt or float-only."""
        if not self._tensor_hyperparameters or not self._built:
            return False
        device = self.param_groups[0]["params"][0].device
        if self._step_tensor is None:
            self._step_tensor = torch.tensor(self._iterations, dtype=torch.int64, device=device)
        self._lr_values = [float(g["lr"]) for g in self.param_groups]
        self._lr_tensors = [torch.tensor(v, dtype=torch.float64, device=device) for v in self._lr_values]
        self._jit_groups = list(self.param_groups)
        for group in self.param_groups:
            for p in group["params"]:
                if not self.state[p]:
                    self._init_state(group, p, self.state[p])
        return True

    def _groups(self):
        # The same dicts via our own list: dynamo guards every value of self.param_groups (lr too).
        return self._jit_groups or self.param_groups

    def sync_hyperparameters(self):
        """Copy learning rates changed since the last step into their tensors (no sync)."""
        if len(self._jit_groups) != len(self.param_groups):   # build() added a model's group
            self.use_tensor_hyperparameters()
        values = self._lr_values
        for i, group in enumerate(self.param_groups):
            lr = group["lr"]
            if lr != values[i]:
                self._lr_tensors[i].fill_(lr)
                values[i] = float(lr)

    def current_learning_rate(self, group=None):
        """The learning rate the next step uses, after ``decay``."""
        lr = float((group or (self.param_groups[0] if self.param_groups
                              else self.defaults))["lr"])
        if self._decay:
            lr = lr / (1.0 + self._decay * self.iterations)
        return lr

    # ------------------------------------------------------------------- step
    def step(self, closure=None):
        """Apply one update from the parameters' ``.grad`` (Keras 3 update rules)."""
        if not self._built:
            raise RuntimeError(
                f"{type(self).__name__}.step() was called before the optimizer was "
                f"bound to parameters: call `optimizer.build(model.parameters())` "
                f"first (Model.compile does this)."
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            work = []
            for index, group in enumerate(self._groups()):
                params = group["params"]
                grads = [p.grad for p in params]
                for g in grads:
                    if g is None:
                        params = [p for p in params if p.grad is not None]
                        grads = [p.grad for p in params]
                        break
                if params:
                    work.append((group, params, grads, index))
            counter = self._step_tensor
            if counter is not None:   # tensors: a compiled step reads them without recompiling
                step = counter.add_(1)
                decay_factor = 1.0 / (1.0 + self._decay * (counter - 1)) if self._decay else 1.0
                lrs = self._lr_tensors
            else:
                step = self._iterations + 1
                decay_factor = 1.0 / (1.0 + self._decay * self._iterations) if self._decay else 1.0
                lrs = [group["lr"] for group in self.param_groups]
                self._iterations += 1
            if work:
                if self.clipnorm or self.clipvalue or self.global_clipnorm:
                    work = clip_gradients(work, self.clipnorm, self.clipvalue, self.global_clipnorm)
                wd = self.weight_decay
                for group, params, grads, index in work:
                    lr = lrs[index] * decay_factor
                    if wd:
                        torch._foreach_mul_(params, 1.0 - wd * lr)
                    self._update(group, params, grads, lr, step)
        return loss

    def _update(self, group, params, grads, lr, step):  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def _init_state(self, group, param, state):
        """Create a parameter's state tensors (zeros by default)."""
        for name in self._state_names:
            state[name] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def _states(self, group, params, names):
        """Lists of state tensors, one list per name, created on first use."""
        out = tuple([] for _ in names)
        all_state = self.state
        for p in params:
            s = all_state[p]
            if not s:
                self._init_state(group, p, s)
            for lst, name in zip(out, names):
                lst.append(s[name])
        return out

    def state_dict(self):
        """torch's optimizer state dict plus ``iterations`` (the step counter)."""
        sd = super().state_dict()
        sd["iterations"] = int(self.iterations)  # a plain int: backups load weights-only
        return sd

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``; before ``build`` it is kept and applied then."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise TypeError(
                f"{type(self).__name__}.load_state_dict() expects the dict returned by "
                f"state_dict(), got {type(state_dict).__name__}."
            )
        if not self._built:
            self._pending_state = state_dict
            return
        super().load_state_dict(_tensors_from_arrays(state_dict))
        self.iterations = int(state_dict.get("iterations", 0))
        if self._jit_groups:
            self._jit_groups = list(self.param_groups)

    def zero_grad(self, set_to_none=True):
        """torch's ``zero_grad``, written out so a compiled step traces it (torch's is skipped)."""
        for group in self._groups():
            for p in group["params"]:
                if set_to_none:
                    p.grad = None   # unconditionally: a compiled step then guards on no grad's state
                elif p.grad is not None:
                    p.grad.detach_()
                    p.grad.zero_()

    def __getstate__(self):
        # torch keeps only defaults/state/param_groups; kerosene's settings
        # (iterations, clipping, decay, name) must survive pickle and deepcopy too
        state = {k: v for k, v in self.__dict__.items() if k not in _HOOK_DICTS}
        return state

    def __setstate__(self, state):
        super().__setstate__(state)

    # ----------------------------------------------------------------- config
    def get_config(self):
        """Keras-style config: ``cls.from_config(opt.get_config())`` rebuilds it."""
        config = {"name": self.name, "learning_rate": self.learning_rate}
        for key in self._hyper_names:
            config[key] = self.defaults[key]
        config.update(
            decay=self._decay,
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            global_clipnorm=self.global_clipnorm,
            weight_decay=self.weight_decay,
        )
        return config

    @classmethod
    def from_config(cls, config):
        """Create an optimizer from ``get_config()`` output (Keras 2 or 3 keys)."""
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config() expects a dict, got "
                            f"{type(config).__name__}.")
        config = dict(config)
        for key, default in _KERAS3_DISABLED_DEFAULTS.items():
            if key in config:
                value = config.pop(key)
                if value not in (default, None, False) and key not in (
                        "ema_momentum", "jit_compile", "is_legacy_optimizer"):
                    raise ValueError(
                        f"{cls.__name__}: config key {key!r}={value!r} is not "
                        f"supported by kerosene (accepted: {default!r})."
                    )
        if isinstance(config.get("learning_rate"), dict):
            raise ValueError(
                f"{cls.__name__}: learning-rate schedules in configs are not "
                f"supported; got learning_rate={config['learning_rate']!r}. Use the "
                f"LearningRateScheduler callback instead."
            )
        return cls(**config)

    def __repr__(self):
        if not self._built:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                             if v is not None and k != "name")
            return f"{type(self).__name__}({args}) [not built]"
        return super().__repr__()
