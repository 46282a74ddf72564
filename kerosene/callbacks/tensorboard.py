"""TensorBoard: event files for TensorBoard, written through ``torch.utils.tensorboard``."""
from __future__ import annotations

import numbers
import os
import warnings

import numpy as np
import torch

from .._user_warning import warn_user
from .. import distributed
from .._naming import layer_name
from ..saving.atomic import check_destination, fsync_path
from ..models import module_weights
from .base import Callback
from .learning_rate import get_learning_rate

__all__ = ["TensorBoard"]


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:  # tensorboard is an optional extra
        raise ImportError(
            "The TensorBoard callback needs the `tensorboard` package: "
            "pip install 'kerosene[tensorboard]' (or pip install tensorboard)") from exc
    return SummaryWriter


class TensorBoard(Callback):
    """Write logs for TensorBoard: scalars, weight histograms, the graph, the learning rate.

    As Keras does, training values go to ``log_dir/train`` and validation values to
    ``log_dir/validation``, under ``epoch_<name>`` tags at step = epoch (``val_loss``
    becomes ``epoch_loss`` in the validation run), with the learning rate as
    ``epoch_learning_rate``. ``update_freq='batch'`` or an int N also writes
    ``batch_<name>`` every N training batches at step = batches seen so far (reading batch
    values costs a device sync on those batches). ``histogram_freq=N`` writes a
    histogram of every weight every N epochs (and, with ``write_images``, 2-D weights as
    images); as in Keras 2 it needs validation arrays (not a generator); ``embeddings_freq=N`` writes the weights of Embedding layers for the
    projector; ``write_graph`` traces the model once, on the first batch it sees;
    ``profile_batch=N`` or ``(start, stop)`` profiles those training batches (1-based)
    with ``torch.profiler`` into ``log_dir/train/plugins/profile``.

    Event files are flushed and fsynced at every epoch end. Only the main process
    writes. See the runs with ``tensorboard --logdir logs``.

    Example::

        tensorboard = TensorBoard(log_dir='logs/run1', histogram_freq=1)
        model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[tensorboard])
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 update_freq="epoch", profile_batch=0, embeddings_freq=0, **kwargs):
        super().__init__()
        for ignored in ("batch_size", "write_grads", "embeddings_layer_names", "embeddings_metadata",
                        "embeddings_data", "write_steps_per_second"):
            kwargs.pop(ignored, None)
        if kwargs:
            raise TypeError(f"TensorBoard() got an unexpected keyword argument {sorted(kwargs)[0]!r}")
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"TensorBoard `log_dir` must be a path, got {type(log_dir).__name__} {log_dir!r}")
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _non_negative_int("histogram_freq", histogram_freq)
        self.embeddings_freq = _non_negative_int("embeddings_freq", embeddings_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        if update_freq == "epoch":
            self.update_freq = "epoch"
        elif update_freq == "batch":
            self.update_freq = 1
        elif isinstance(update_freq, numbers.Integral) and not isinstance(update_freq, bool) and update_freq > 0:
            self.update_freq = int(update_freq)
        else:
            raise ValueError(f"TensorBoard `update_freq` must be 'epoch', 'batch' or an int > 0, got {update_freq!r}")
        self._profile_range = _profile_range(profile_batch)
        self._writers = {}
        self._global_batch = 0
        self._graph_input = None
        self._graph_hook = None
        self._graph_written = False
        self._profiler = None
        self._next_epoch = 0
        self._purge_step = None

    # Batch hooks are dispatched only when they have work to do.
    def overrides(self, hook):
        if hook in ("on_train_batch_end", "on_batch_end"):
            return self.update_freq != "epoch" or self._profile_range is not None
        if hook in ("on_train_batch_begin", "on_batch_begin"):
            return self._profile_range is not None
        return super().overrides(hook)

    @property
    def _active(self):
        return distributed.is_main_process()

    def _writer(self, run):
        writer = self._writers.get(run)
        if writer is None:
            # A resumed run hides the points the interrupted one wrote past the backup (TensorBoard's purge_step).
            purge = {} if self._purge_step is None else {"purge_step": self._purge_step}
            writer = self._writer_class(log_dir=os.path.join(self.log_dir, run), **purge)
            self._writers[run] = writer
        return writer

    # --- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_batch = 0
        if self.histogram_freq and self.validation_data is None:
            # Keras 2 computes histograms on the validation arrays, so it refuses a run without them.
            raise ValueError(f"TensorBoard `histogram_freq`={self.histogram_freq}: if printing histograms, "
                             "validation_data must be provided, and cannot be a generator (pass arrays "
                             "as validation_data or a validation_split, or set histogram_freq=0)")
        if not self._active:
            return
        check_destination(self.log_dir, "TensorBoard `log_dir`", folder=True)
        self._writer("train")
        if self.write_graph and not self._graph_written:
            self._graph_hook = self.model.register_forward_pre_hook(self._capture_input)

    def _capture_input(self, module, args):
        if self._graph_input is None and args:
            self._graph_input = _detached(args[0])
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None

    def on_train_batch_begin(self, batch, logs=None):
        start = self._profile_range[0] if self._profile_range else None
        if self._active and self._profiler is None and self._global_batch + 1 == start:
            trace_dir = os.path.join(self.log_dir, "train", "plugins", "profile")
            self._profiler = torch.profiler.profile(
                on_trace_ready=torch.profiler.tensorboard_trace_handler(trace_dir))
            self._profiler.start()

    def on_train_batch_end(self, batch, logs=None):
        self._global_batch += 1
        if not self._active:
            return
        if self._profiler is not None and self._global_batch >= self._profile_range[1]:
            self._profiler.stop()
            self._profiler = None
        if self.update_freq != "epoch" and self._global_batch % self.update_freq == 0:
            writer = self._writer("train")
            for key, value in (logs or {}).items():
                if key in ("batch", "size"):
                    continue
                number = _scalar(value)
                if number is not None:
                    writer.add_scalar("batch_" + key, number, self._global_batch)

    def on_epoch_end(self, epoch, logs=None):
        self._next_epoch = epoch + 1
        if not self._active:
            return
        logs = dict(logs or {})
        train = self._writer("train")
        self._write_graph(train)
        for key, value in logs.items():
            number = _scalar(value)
            if number is None:
                continue
            if key.startswith("val_"):
                self._writer("validation").add_scalar("epoch_" + key[4:], number, epoch)
            else:
                train.add_scalar("epoch_" + key, number, epoch)
        if "learning_rate" not in logs:
            rate = _learning_rate(self.model)
            if rate is not None:
                train.add_scalar("epoch_learning_rate", rate, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(train, epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._write_embeddings(train, epoch)
        for writer in self._writers.values():
            writer.flush()
            _fsync_events(writer.get_logdir())

    def on_train_end(self, logs=None):
        self._purge_step = None
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None
        if self._profiler is not None:
            self._profiler.stop()
            self._profiler = None
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # --- contents --------------------------------------------------------------------------
    def _write_graph(self, writer):
        if not self.write_graph or self._graph_written or self._graph_input is None:
            return
        self._graph_written = True
        was_training = self.model.training
        self.model.eval()  # no batch-norm statistics or dropout draws while tracing
        try:
            with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                writer.add_graph(self.model, self._graph_input)
        except Exception as exc:  # a model tracing cannot follow: the scalars matter more
            warn_user(f"TensorBoard could not trace the model graph ({type(exc).__name__}: {exc}); "
                      "pass write_graph=False to silence this", RuntimeWarning)
        finally:
            self.model.train(was_training)
            self._graph_input = None

    def _named_weights(self):
        layers = getattr(self.model, "layers", None) or [self.model]
        for layer in layers:
            values = module_weights(layer)
            names = layer.keras_weight_names() if hasattr(layer, "keras_weight_names") else list(
                layer.state_dict().keys())
            for name, value in zip(names, values):
                yield f"{layer_name(layer)}/{name.split(':')[0]}", np.asarray(value)

    def _write_weights(self, writer, epoch):
        for name, value in self._named_weights():
            if value.size == 0 or not np.issubdtype(value.dtype, np.number):
                continue
            writer.add_histogram(name + "/histogram", value.astype(np.float64), epoch)
            if self.write_images and value.ndim == 2:
                writer.add_image(name + "/image", _as_image(value), epoch, dataformats="HW")

    def _write_embeddings(self, writer, epoch):
        for layer in getattr(self.model, "layers", []):
            table = getattr(layer, "embeddings", None)
            if isinstance(table, torch.Tensor) and table.dim() == 2:
                writer.add_embedding(table.detach().cpu(), tag=layer_name(layer), global_step=epoch)

    def state_dict(self):
        return {"global_batch": self._global_batch, "graph_written": self._graph_written,
                "next_epoch": self._next_epoch}

    def load_state_dict(self, state):
        self._global_batch = int(state.get("global_batch", 0))
        self._graph_written = bool(state.get("graph_written", False))
        self._next_epoch = int(state.get("next_epoch", 0))
        # Epoch points sit at step = epoch; with batch points too, the batch count is the finer position
        # (epoch points past it, rare, stay visible).
        self._purge_step = self._next_epoch if self.update_freq == "epoch" else self._global_batch


def _fsync_events(folder):
    """Push the run's event files to disk, so a crash keeps every finished epoch."""
    for name in os.listdir(folder):
        if name.startswith("events.out.tfevents"):
            fsync_path(os.path.join(folder, name))


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"TensorBoard `{name}` must be an integer >= 0, got {value!r}")
    return int(value)


def _profile_range(profile_batch):
    """``(start, stop)`` training batches to profile (1-based, inclusive), or None."""
    if profile_batch in (0, None) or profile_batch == (0, 0):
        return None
    if isinstance(profile_batch, numbers.Integral) and not isinstance(profile_batch, bool) and profile_batch > 0:
        return int(profile_batch), int(profile_batch)
    if isinstance(profile_batch, str) and "," in profile_batch:
        profile_batch = tuple(p.strip() for p in profile_batch.split(","))
    if isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
        try:
            start, stop = int(profile_batch[0]), int(profile_batch[1])
        except (TypeError, ValueError):
            start, stop = 0, -1
        if 0 < start <= stop:
            return start, stop
    raise ValueError(f"TensorBoard `profile_batch` must be 0 (off), a batch number > 0 or a pair "
                     f"(start, stop) with 0 < start <= stop, got {profile_batch!r}")


def _scalar(value):
    if isinstance(value, torch.Tensor):
        return float(value.item()) if value.numel() == 1 else None
    if isinstance(value, np.ndarray):
        return float(value.item()) if value.size == 1 else None
    if isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, bool):
        return float(value)
    return None


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return get_learning_rate(optimizer)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None


def _detached(x):
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, (list, tuple)):
        return type(x)(_detached(v) for v in x)
    if isinstance(x, dict):
        return {k: _detached(v) for k, v in x.items()}
    return x


def _as_image(value):
    low, high = float(value.min()), float(value.max())
    scaled = (value - low) / (high - low) if high > low else np.zeros_like(value)
    return scaled.astype(np.float32)
