"""engine/run.py and the single-process context: what fit hands its callbacks."""
import numpy as np
import torch

import kerosene
from kerosene.callbacks import Callback
from kerosene.engine.distributed import NULL_CONTEXT
from kerosene.engine.logs import EpochAggregator
from kerosene.engine.run import RunState


class _Adapter:
    seed = 0


def test_run_state_round_trips_its_position_and_seed():
    adapter = _Adapter()
    run = RunState(seed=7, initial_epoch=2, epochs=5, adapter=adapter)
    assert run.state_dict() == {"epoch": 2, "step": 0, "seed": 7}
    run.load_state_dict({"epoch": 3, "step": 4, "seed": 11, "stop_training": False})
    assert (run.epoch, run.start_epoch, run.step, run.start_step, run.seed) == (3, 3, 4, 4, 11)
    assert adapter.seed == 11   # the data order follows the restored seed
    run.finish()
    assert run.start_epoch == run.epochs


def test_the_null_context_leaves_everything_as_it_is():
    adapter, model, agg = object(), torch.nn.Linear(1, 1), EpochAggregator()
    assert NULL_CONTEXT.shard(adapter) is adapter and NULL_CONTEXT.shard(adapter, evaluation=True) is adapter
    assert NULL_CONTEXT.wrap_model(model) is model and NULL_CONTEXT.unwrap_model(model) is model
    assert NULL_CONTEXT.reduce_aggregator(agg) is agg
    assert NULL_CONTEXT.params({"batch_size": 4}) == {}
    assert NULL_CONTEXT.is_main and not NULL_CONTEXT.check_stop_every_step


def test_fit_hands_each_callback_the_run_and_takes_it_back():
    class Watch(Callback):
        def on_train_begin(self, logs=None):
            self.seen = (self.run.epochs, self.run.callbacks.callbacks[-1].__class__.__name__)

        def on_epoch_end(self, epoch, logs=None):
            self.position = self.run.state_dict()["epoch"]

    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    model = kerosene.Sequential([kerosene.layers.Dense(1, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    watch = Watch()
    model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=0, callbacks=[watch])
    assert watch.seen == (2, "History") and watch.position == 1
    assert watch.run is None and "run" not in watch.state_dict()


def test_a_run_restorer_is_called_around_every_on_train_begin_and_moves_the_run():
    from kerosene.callbacks.base import RunRestorer
    events = []

    class Trace(Callback):
        def on_train_begin(self, logs=None):
            events.append("trace.on_train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch {epoch}")

    class SkipTwoEpochs(Callback, RunRestorer):
        def restore_state(self, run):
            events.append("restore_state")

        def on_train_begin(self, logs=None):
            events.append("restorer.on_train_begin")

        def restore_position(self, run):
            events.append("restore_position")
            run.load_state_dict({"epoch": 2, "step": 0, "seed": run.seed})

    model = kerosene.models.Sequential([kerosene.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    x = np.zeros((4, 2), np.float32)
    # The restorer is last in the list, yet restores before the first callback's on_train_begin.
    history = model.fit(x, x[:, :1], epochs=4, verbose=0, callbacks=[Trace(), SkipTwoEpochs()])
    assert events == ["restore_state", "trace.on_train_begin", "restorer.on_train_begin", "restore_position",
                      "epoch 2", "epoch 3"]
    assert history.epoch == [2, 3]
