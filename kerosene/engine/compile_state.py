"""What ``compile`` decides, kept apart from the module so torch never registers it."""
from __future__ import annotations

import torch

__all__ = ["CompileState", "resolve_device"]


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

    Example::

        state = CompileState(optimizer, [loss], None, [[]], device=torch.device('cpu'))
    """

    def __init__(self, optimizer, losses, loss_weights, metric_specs, device, jit_compile=False,
                 precision=None, output_names=None, loss_spec=None, metrics_spec=None):
        self.optimizer = optimizer
        self.losses = losses              # list of Loss objects, one per output (None: output has no loss)
        self.loss_weights = loss_weights  # list of floats or None
        self.metric_specs = metric_specs  # per output: the identifiers the user gave
        self.metrics = None               # per output: resolved Metric objects (at first data)
        self.device = device
        self.jit_compile = jit_compile
        self.precision = precision
        self.output_names = output_names
        self.loss_spec = loss_spec
        self.metrics_spec = metrics_spec
        self.compiled_forward = None
        self.loss_scaler = None           # torch.amp.GradScaler under float16 mixed precision
        self.constrained = ()             # layers whose weights carry constraints (set at first data)
