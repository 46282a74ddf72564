"""The trainer: Keras's ``compile``/``fit``/``evaluate``/``predict`` as a mixin for torch modules.

``Trainer`` knows nothing of models: it needs a ``torch.nn.Module`` that is callable
on a batch and has ``built``/``_build_from_sample`` (``kerosene.models.Model`` is one).
Each public argument list is written here once; the loops are in :mod:`.loop`.

    class Net(Trainer, torch.nn.Module):
        ...
    net.compile(optimizer='adam', loss='mse')
    history = net.fit(x, y, epochs=5)
"""
from __future__ import annotations


import numpy as np
import torch

from .. import distributed, optimizers
from ..backend.config import training_mode
from ..errors import NotCompiledError
from ..utils.tree import flatten, map_tensors, per_output
from . import loop
from .arguments import (check_epochs, check_kwargs, check_validation_freq, check_validation_split, check_verbose,
                        class_weights_to_sample_weights, first_batch, unpack_validation)
from .compile import (COMPILE_KWARGS_IGNORED, bind_optimizer, check_trainable_consistency,
                      collected_weights_trainable, log_names, loss_dtype,
                      make_compile_state, metric_logs, model_device, output_key, prepare, stateful_metrics)
from .input_checks import check_data_keys, check_target_shapes, check_targets_given
from .input_casts import cast_adapter_inputs, float_input_policy
from .targets import (check_sample_weights, fixed_targets, masked_weights, normalize_target_tensors, output_weights,
                      targets_per_output)
from .data import make_adapter, split_tail
from .distributed import NULL_CONTEXT
from .keras2_names import Keras2TrainingNames
from .logs import EpochAggregator, to_floats
from .run import RunState
from .shard_predict import shard_for_predict

__all__ = ["Trainer", "require_compiled"]


def require_compiled(model, what):
    if model._compile_state is None:
        raise NotCompiledError(
            f"You must compile your model before {what}: call model.compile(optimizer=..., loss=...) first")


class Trainer(Keras2TrainingNames):
    """Keras's training API; mix it in before ``torch.nn.Module``.

    Example::

        class Model(Trainer, torch.nn.Module):
            def forward(self, x):
                ...
        model.compile(optimizer='sgd', loss='mse')
        model.fit(x, y, epochs=2)
    """

    _compile_state = None
    stop_training = False
    stop_reason = None
    history = None

    # --- compile --------------------------------------------------------------------
    @property
    def optimizer(self):
        return self._compile_state.optimizer if self._compile_state is not None else None

    @optimizer.setter
    def optimizer(self, value):
        if self._compile_state is None:
            raise NotCompiledError("Set the optimizer through compile(optimizer=...)")
        self._compile_state.optimizer = optimizers.get(value)

    @property
    def compiled(self):
        return self._compile_state is not None

    @property
    def loss(self):
        state = self._compile_state
        return None if state is None else (state.loss_spec if state.loss_spec is not None else state.losses)

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, device="auto",
                jit_compile=False, precision=None, target_tensors=None, weighted_metrics=None,
                distribute="auto", **kwargs):
        """Choose the optimizer, loss and metrics (Keras names, objects, or torch optimizers).

        ``device='auto'`` trains on CUDA when present. ``jit_compile=True`` runs the
        whole train/test/predict step through ``torch.compile`` (``'cuda_graphs'``: also
        CUDA graphs, CUDA only; ``'auto'``, Keras 3's default, stays eager);
        ``precision='mixed_bfloat16'`` or ``'mixed_float16'`` trains under autocast.
        ``distribute``: ``'auto'``/``'ddp'`` (DDP under torchrun), ``'fsdp'`` or a
        ``kerosene.distributed.FSDP(...)`` for fully sharded training.
        """
        for key in kwargs:
            if key not in COMPILE_KWARGS_IGNORED:
                raise TypeError(f"compile() got an unexpected keyword argument {key!r}")
        names = self._output_names()
        targets = normalize_target_tensors(target_tensors, names or [self._single_output_name()])
        self._compile_state = make_compile_state(optimizer, loss, metrics, loss_weights, device, jit_compile,
                                                 precision, names, single_name=None if names else
                                                 self._single_output_name(), weighted_metrics=weighted_metrics,
                                                 distribute=distribute, sample_weight_mode=kwargs.get("sample_weight_mode"))
        self._compile_state.target_tensors = targets
        if self.built:
            self.to(self._compile_state.device)
            bind_optimizer(self, compiling=True)

    def _output_names(self):
        """Names of the outputs (``None`` for a single-output model)."""
        return getattr(self, "output_names", None)

    def _single_output_name(self):
        """The name of the layer that makes a single-output model's output (None if unknown)."""
        outputs = getattr(self, "_outputs", None)
        if outputs:
            return getattr(outputs[0].node.layer, "name", None)
        layers = getattr(self, "layers", None)
        return getattr(layers[-1], "name", None) if layers else None

    # --- steps (Keras 3 style; override to customise one step) --------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        state = self._compile_state
        losses = state.losses
        penalty = self._regularization_penalty()
        if len(losses) == 1:
            # model.add_loss values, or regularizers and activity penalties, may stand alone (Keras 2)
            if losses[0] is None and not getattr(self, "_added_losses", None) and penalty is None:
                raise ValueError("compile() was given no loss; pass loss=... to train or evaluate")
            total = 0.0 if losses[0] is None else losses[0](
                y, loss_dtype(y_pred), masked_weights(output_weights(sample_weight, None, 1)[0], y_pred))
        else:
            raw = per_output(y_pred, state.output_names)
            total, preds = 0.0, [loss_dtype(p) for p in raw]
            ys = [None] * len(preds) if y is None else per_output(y, state.output_names)
            weights = state.loss_weights
            sws = [masked_weights(w, p) for w, p in zip(output_weights(sample_weight, state.output_names, len(losses)),
                                                         raw)]
            for i, loss_fn in enumerate(losses):
                if loss_fn is None:
                    continue
                if ys[i] is None:
                    raise ValueError(f"Output {state.output_names[i]!r} has a loss but no target: pass y for it "
                                     "(or loss=None for that output)")
                term = loss_fn(ys[i], preds[i], sws[i])
                total = total + (term if weights is None else term * weights[i])
        if penalty is not None:
            total = total + penalty
        return total

    def _regularization_penalty(self):
        # fit/evaluate find the regularizable modules once (engine.compile.prepare); scan otherwise.
        modules = self._compile_state.regularized
        if modules is None:
            modules = [m for m in self.modules() if m is not self and hasattr(m, "regularization_loss")]
        terms = [m.regularization_loss() for m in modules]
        for m in modules:   # the penalty holds the graph now; a kept copy would leak it out of a compiled step
            kept = getattr(m, "_activity_losses", None)
            if kept:
                m._activity_losses = [t.detach() for t in kept]
        terms = [t for t in terms if t is not None and not (isinstance(t, (int, float)) and t == 0)]
        return sum(terms) if terms else None

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None):
        """The step's logs: ``loss`` and each metric's batch value, as detached tensors."""
        state = self._compile_state
        logs = {"loss": loss.detach()} if loss is not None else {}
        metrics, names = state.metrics, state.output_names
        if not metrics or (names is None and not metrics[0] and not state.weighted_metrics[0]) or y is None:
            return logs  # no targets: only the loss (regularization and added losses) is logged
        with torch.no_grad():
            ys, preds = ([y], [y_pred]) if names is None else (per_output(y, names), per_output(y_pred, names))
            sws = output_weights(sample_weight, names, len(preds))
            for i, name in enumerate(names or [None]):
                if ys[i] is None:
                    continue  # an output without a loss, given no target (Keras 2's form)
                pred = preds[i].detach() if isinstance(preds[i], torch.Tensor) else preds[i]
                if name is not None and state.losses[i] is not None and len(state.losses) > 1:
                    logs[output_key(name, "loss")] = state.losses[i](ys[i], pred,
                                                                     masked_weights(sws[i], preds[i])).detach()
                logs.update(metric_logs(state, i, name, ys[i], pred, sws[i],
                                        getattr(preds[i], "_keras_mask", None)))
        return logs

    def train_step(self, data):
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns a dict of tensors."""
        x, y, sample_weight = data
        state = self._compile_state
        optimizer = state.optimizer
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        scaler = state.loss_scaler
        if state.no_trainable:
            pass  # nothing to update (bind_optimizer warned)
        elif scaler is None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        else:  # float16: scale the loss, unscale before the update, skip steps with inf/nan grads
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        for layer in state.constrained:
            layer.apply_constraints()
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def test_step(self, data):
        """Loss and metrics on a batch without updating anything."""
        x, y, sample_weight = data
        y_pred = self(x)
        needs_y = any(loss is not None for loss in self._compile_state.losses)
        loss = self.compute_loss(x, y, y_pred, sample_weight) if y is not None or not needs_y else None
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self(x)

    # --- training API ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` epochs; returns a :class:`~kerosene.callbacks.History`."""
        check_kwargs("fit", kwargs)
        if "nb_epoch" in kwargs:
            epochs = kwargs["nb_epoch"]
        require_compiled(self, "training")
        y = fixed_targets(self._compile_state, y)
        check_epochs(epochs, initial_epoch)
        verbose = check_verbose(verbose)
        check_validation_split(validation_split, x)
        check_validation_freq(validation_freq)
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"`shuffle` must be True, False or 'batch', got {shuffle!r}")
        dist = distributed.setup_for_fit(self) or NULL_CONTEXT
        state = self._compile_state
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
        adapter = dist.shard(self._make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle),
                                          seed=seed, device=device, steps=steps_per_epoch))
        val_adapter = None
        if validation_data is not None:
            vx, vy, vsw = unpack_validation(validation_data)
            val_adapter = dist.shard(self._make_adapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                                                  shuffle=False, device=device, steps=validation_steps,
                                                  role="validation_data"), evaluation=True)

        sample = first_batch(adapter)
        check_targets_given(self, sample, "fit", Trainer.train_step)
        prepare(self, sample[0], sample[1], adapter.samples)
        check_target_shapes(self, sample)
        frozen_since_compile = check_trainable_consistency(self)
        dist.wrap_model(self)

        names = log_names(state)
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
        if params["samples"] is None:
            # Keras 2's fit_generator had no "samples" key, and progress bars (keras-tqdm) count
            # steps only when it is absent.
            del params["samples"]
        params.update(dist.params(params))
        aggregator = EpochAggregator(key for key, _ in stateful_metrics(state))
        callback_list, history = loop.configure_callbacks(self, callbacks, verbose if dist.is_main else 0,
                                                          params, aggregator)
        # Keras 2's callback.validation_data: arrays only (None for generators, and without validation).
        # A rank's ShardedArrayAdapter hands keras_arrays() on to the whole arrays it wraps.
        keras_arrays = getattr(val_adapter, "keras_arrays", None)
        validation_arrays = keras_arrays() if keras_arrays is not None else None
        callback_list.set_validation_data(validation_arrays)
        run = RunState(seed, initial_epoch, epochs, aggregator=aggregator, adapter=adapter,
                       callbacks=callback_list, device=device, loss_scaler=state.loss_scaler)
        dist.watch(callback_list)
        callback_list.set_run(run)
        self.history = history
        try:
            with collected_weights_trainable(frozen_since_compile):
                loop.run_fit(self, run, callback_list, val_adapter, validation_freq, dist)
        finally:
            callback_list.set_run(None)
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the data: a scalar with no metrics, else ``[loss, metric...]``."""
        check_kwargs("evaluate", kwargs)
        require_compiled(self, "evaluating")
        y = fixed_targets(self._compile_state, y)
        verbose = check_verbose(verbose)
        dist = distributed.setup_for_eval(self) or NULL_CONTEXT
        device = self._compile_state.device
        adapter = dist.shard(self._make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=False, device=device,
                                          steps=steps))
        sample = first_batch(adapter)
        check_targets_given(self, sample, "evaluate", Trainer.test_step)
        prepare(self, sample[0], sample[1], adapter.samples)
        check_target_shapes(self, sample)
        names = log_names(self._compile_state)
        params = {"batch_size": batch_size, "steps": adapter.steps, "samples": adapter.samples,
                  "verbose": verbose, "metrics": names}
        cb_list = loop.user_callbacks(self, callbacks, params)
        if verbose and dist.is_main:
            cb_list.append(loop.ProgbarCallback(adapter.steps, verbose, True))
        results = loop.run_test(self, adapter, cb_list, dist)
        if return_dict:
            return results
        values = [results.get(n) for n in names if n in results]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, **kwargs):
        """The model's outputs for ``x`` as numpy arrays."""
        check_kwargs("predict", kwargs)
        verbose = check_verbose(verbose)
        # Under a launch each rank predicts its share of arrays; every rank gets all outputs back.
        dist = (self._compile_state is not None and distributed.setup_for_eval(self)) or NULL_CONTEXT
        adapter = self._make_adapter(x, None, None, batch_size=batch_size, shuffle=False, device=self._data_device(),
                               steps=steps)
        self._prepare_for_predict(first_batch(adapter)[0], adapter.samples)
        adapter, gather = shard_for_predict(dist, adapter)
        params = {"batch_size": batch_size, "steps": adapter.steps, "samples": adapter.samples, "verbose": verbose}
        cb_list = loop.user_callbacks(self, callbacks, params)
        if verbose and dist.is_main:
            cb_list.append(loop.ProgbarCallback(adapter.steps, verbose, False))
        return gather(loop.run_predict(self, adapter, cb_list))

    def reset_metrics(self):
        """Reset the stateful metrics (Keras 2.2: a metric Layer with ``stateful=True``)."""
        for _, metric in stateful_metrics(self._compile_state):
            metric.reset_states()

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One step on one batch; returns the loss (or ``[loss, metric...]``)."""
        require_compiled(self, "training")
        batch = self._single_batch(x, fixed_targets(self._compile_state, y), sample_weight, class_weight, reset_metrics)
        frozen_since_compile = check_trainable_consistency(self)
        self.train(training_mode(True))
        with loop.autocast(self)(), collected_weights_trainable(frozen_since_compile):
            logs = self.train_step(batch)
        return self._step_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        require_compiled(self, "evaluating")
        batch = self._single_batch(x, fixed_targets(self._compile_state, y), sample_weight, None, reset_metrics)
        was_training = self.training
        self.train(training_mode(False))
        with torch.no_grad():
            logs = self.test_step(batch)
        self.train(was_training)
        return self._step_result(logs, return_dict)

    def predict_on_batch(self, x):
        adapter = self._make_adapter(x, None, None, batch_size=max(1, _rows(x)), shuffle=False, device=self._data_device())
        batch = next(iter(adapter.epoch_batches(0)))
        self._prepare_for_predict(batch[0])
        was_training = self.training
        self.train(training_mode(False))
        with torch.no_grad():
            out = self.predict_step(batch)
        self.train(was_training)
        return loop.to_numpy(out)

    @property
    def metrics_names(self):
        """Names of what ``evaluate`` returns, in order (``['loss', 'acc']``)."""
        return log_names(self._compile_state)

    # --- helpers of the single-batch and predict paths ------------------------------
    def _make_adapter(self, x, y=None, sample_weight=None, **kwargs):
        """The adapter for ``x``, its integer/boolean inputs cast to floats where Keras 2 casts them."""
        check_data_keys(self, x, y)
        y = targets_per_output(self._compile_state, y)
        check_sample_weights(self._compile_state, y, sample_weight)
        return cast_adapter_inputs(make_adapter(x, y, sample_weight, **kwargs), float_input_policy(self))

    def _data_device(self):
        return self._compile_state.device if self._compile_state is not None else model_device(self)

    def _prepare_for_predict(self, x, samples=None):
        if self._compile_state is not None:
            prepare(self, x, None, samples)
            return
        check = getattr(self, "check_input", None)
        if check is not None:
            check(x, samples)
        if not self.built:
            self._build_from_sample(map_tensors(torch.Tensor.cpu, x))

    def _single_batch(self, x, y, sample_weight, class_weight=None, reset_metrics=False):
        if reset_metrics:    # Keras 2.3: a stateful metric's value is then this batch's alone
            self.reset_metrics()
        if class_weight is not None:
            sample_weight = class_weights_to_sample_weights(y, class_weight, sample_weight)
        adapter = self._make_adapter(x, y, sample_weight, batch_size=max(1, _rows(x)), shuffle=False,
                               device=self._compile_state.device)
        batch = next(iter(adapter.epoch_batches(0)))
        prepare(self, batch[0], batch[1])
        check_target_shapes(self, batch)
        return batch

    def _step_result(self, logs, return_dict):
        values = to_floats(logs)
        if return_dict:
            return values
        ordered = [values[n] for n in log_names(self._compile_state) if n in values]
        return ordered[0] if len(ordered) == 1 else ordered


def _rows(x):
    leaves, _ = flatten(x)
    return int(np.shape(leaves[0])[0]) if leaves else 1
