"""Callbacks written the way published Keras 2 callbacks are (cyclic learning rates, AUC in the logs,
weight averaging, progress bars, LR finders), each our own code, run unchanged."""
import numpy as np, pytest, os
from kerosene import backend as K
from kerosene.callbacks import Callback, ModelCheckpoint, EarlyStopping, CSVLogger
from kerosene.layers import Dense
from kerosene.models import Sequential

def data():
    rng = np.random.RandomState(0)
    x = rng.rand(64, 4).astype("float32"); y = (x.sum(1) > 2).astype("float32")
    return x, y

def model():
    m = Sequential([Dense(8, input_shape=(4,), activation="relu"), Dense(1, activation="sigmoid")])
    m.compile("sgd", "binary_crossentropy", metrics=["accuracy"]); return m

class CLR(Callback):
    def __init__(self, base=0.001, top=0.01, step=4):
        super().__init__(); self.base, self.top, self.step = base, top, step; self.it = 0; self.history = {}
    def clr(self):
        cycle = np.floor(1 + self.it / (2 * self.step)); x = np.abs(self.it / self.step - 2 * cycle + 1)
        return self.base + (self.top - self.base) * max(0, 1 - x)
    def on_train_begin(self, logs={}):
        logs = logs or {}
        K.set_value(self.model.optimizer.lr, self.base)
    def on_batch_end(self, epoch, logs=None):
        logs = logs or {}; self.it += 1
        self.history.setdefault("lr", []).append(K.get_value(self.model.optimizer.lr))
        for k, v in logs.items(): self.history.setdefault(k, []).append(v)
        K.set_value(self.model.optimizer.lr, self.clr())

class AUC(Callback):
    def on_epoch_end(self, epoch, logs={}):
        x, y = self.validation_data[0], self.validation_data[1]
        p = self.model.predict(x).ravel()
        logs["val_auc"] = float(np.mean((p > 0.5) == (y.ravel() > 0.5)))

class SWA(Callback):
    def on_train_begin(self, logs=None): self.n = 0; self.swa = None
    def on_epoch_end(self, epoch, logs=None):
        w = self.model.get_weights()
        self.swa = w if self.swa is None else [(s * self.n + c) / (self.n + 1) for s, c in zip(self.swa, w)]
        self.n += 1
    def on_train_end(self, logs=None): self.model.set_weights(self.swa)

class Tqdm(Callback):
    def on_train_begin(self, logs): self.seen = []; self.p = dict(self.params)
    def on_batch_end(self, batch, logs): self.seen.append((logs["batch"], logs["size"], float(logs["loss"])))
    def on_epoch_end(self, epoch, logs): self.metrics = [m for m in self.params["metrics"] if m in logs]

class Finder(Callback):
    def on_train_begin(self, logs=None): self.best = 1e9; self.lrs = []
    def on_batch_end(self, batch, logs=None):
        lr = K.get_value(self.model.optimizer.lr); self.lrs.append(lr); loss = logs["loss"]
        if loss < self.best: self.best = loss
        if len(self.lrs) >= 5: self.model.stop_training = True
        K.set_value(self.model.optimizer.lr, lr * 2)

def test_common_third_party_callbacks_run_unchanged(tmp_path):
    x, y = data(); m = model()
    clr, auc, swa, tq = CLR(), AUC(), SWA(), Tqdm()
    ck = ModelCheckpoint(str(tmp_path / "best.h5"), monitor="val_auc", mode="max", save_best_only=True, verbose=0)
    csv = CSVLogger(str(tmp_path / "log.csv"))
    h = m.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, callbacks=[clr, auc, ck, csv, swa, tq], verbose=0)
    assert "val_auc" in h.history and len(h.history["val_auc"]) == 3, h.history.keys()
    assert os.path.exists(tmp_path / "best.h5")
    assert "val_auc" in open(tmp_path / "log.csv").readline()
    assert len(clr.history["lr"]) == 9 and clr.history["lr"][0] == pytest.approx(0.001)
    assert tq.p["epochs"] == 3 and tq.p["samples"] == 48 and tq.seen[0][:2] == (0, 16)
    assert "acc" in tq.metrics or "accuracy" in tq.metrics
    assert m.history is h
    np.testing.assert_allclose(m.get_weights()[0], swa.swa[0])
    f = Finder(); m2 = model(); m2.fit(x, y, batch_size=4, epochs=2, callbacks=[f], verbose=0)
    assert len(f.lrs) == 5 and f.lrs[-1] == pytest.approx(0.01 * 16)


class LogsAuc(Callback):
    """Writes a metric of its own into the epoch logs, as AUC/F1 callbacks do."""

    def __init__(self, values):
        super().__init__()
        self.values = iter(values)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_auc"] = next(self.values)


def test_monitors_and_filepath_fields_logged_by_an_earlier_callback_are_neither_warned_nor_refused(tmp_path):
    import warnings
    from kerosene.callbacks import ReduceLROnPlateau
    x, y = data()
    m = model()
    stop = EarlyStopping(monitor="val_auc", mode="max", patience=1)
    reduce = ReduceLROnPlateau(monitor="val_auc", mode="max", patience=0, factor=0.5)
    ck = ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{val_auc:.2f}.h5"), monitor="val_auc", mode="max",
                         save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = m.fit(x, y, epochs=6, validation_split=0.25, verbose=0,
                  callbacks=[LogsAuc([0.5, 0.6, 0.55, 0.7]), stop, reduce, ck])
    assert h.history["val_auc"] == [0.5, 0.6, 0.55] and stop.stopped_epoch == 2
    assert K.get_value(m.optimizer.lr) == pytest.approx(0.005)
    assert sorted(os.listdir(tmp_path)) == ["w-01-0.50.h5", "w-02-0.60.h5"]


def test_a_field_no_earlier_callback_can_log_is_still_refused_at_train_begin(tmp_path):
    x, y = data()
    after = ModelCheckpoint(str(tmp_path / "w-{val_auc:.2f}.h5"))
    with pytest.raises(ValueError, match="val_auc"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[after, LogsAuc([0.5])])   # it runs after the checkpoint
    assert os.listdir(tmp_path) == []


def test_star_import_of_callbacks_gives_the_backend_and_numpy_as_keras_2s_did():
    namespace = {}
    exec("from kerosene.callbacks import *", namespace)
    assert namespace["K"] is K and namespace["np"] is np and namespace["Callback"] is Callback


class HeldOutFinder(Callback):
    """Evaluates on a held-out set it was given itself, after every batch, as LR finders do."""

    def __init__(self, validation_data):
        super().__init__()
        self.validation_data = validation_data
        self.val_losses = []

    def on_batch_end(self, batch, logs=None):
        vx, vy = self.validation_data[0], self.validation_data[1]
        self.val_losses.append(self.model.evaluate(vx, vy, verbose=0)[0])


def test_a_callbacks_own_validation_data_survives_a_fit_without_validation():
    x, y = data()
    m = model()
    finder = HeldOutFinder((x[:8], y[:8]))
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[finder])
    assert np.array_equal(finder.validation_data[0], x[:8])
    assert len(finder.val_losses) == 4
    assert finder.val_losses[-1] == pytest.approx(m.evaluate(x[:8], y[:8], verbose=0)[0], rel=1e-5)


def test_fit_with_validation_arrays_replaces_a_callbacks_validation_data():
    x, y = data()
    finder = HeldOutFinder((x[:8], y[:8]))
    model().fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(x[:4], y[:4]), callbacks=[finder])
    assert len(finder.validation_data[0]) == 4


class CountsLikeTqdm(Callback):
    """Counts samples when params has 'samples', else steps, as keras-tqdm does."""

    def on_epoch_begin(self, epoch, logs=None):
        self.by_samples = "samples" in self.params
        self.total = self.params["samples"] if self.by_samples else self.params["steps"]
        self.count = 0

    def on_batch_end(self, batch, logs=None):
        self.count += logs["size"] if self.by_samples else 1


def test_params_has_samples_for_arrays_and_no_samples_key_for_generators():
    x, y = data()
    m = model()
    arrays = CountsLikeTqdm()
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[arrays])
    assert arrays.by_samples and arrays.count == arrays.total == 64

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    steps = CountsLikeTqdm()
    m.fit_generator(batches(), steps_per_epoch=3, epochs=1, verbose=0, callbacks=[steps])
    assert not steps.by_samples and steps.count == steps.total == 3


class GradientLogger(Callback):
    """Builds K.function over K.gradients of model.total_loss in set_model, as gradient loggers do."""

    def set_model(self, model):
        self.model = model
        feeds = model._feed_inputs + model._feed_targets + model._feed_sample_weights
        self.get_gradients = K.function(feeds, K.gradients(model.total_loss, model.trainable_weights))
        self.get_loss = K.function(feeds, [model.total_loss])

    def on_epoch_end(self, epoch, logs=None):
        x, y = self.validation_data[0], self.validation_data[1]
        self.grads = self.get_gradients([x, y, np.ones(len(y))])
        self.loss = self.get_loss([x, y, np.ones(len(y))])[0]


def test_gradients_of_total_loss_are_those_the_optimizer_steps_with():
    from kerosene.optimizers import SGD
    x, y = data()
    y = y[:, None]
    m = Sequential([Dense(8, input_shape=(4,), activation="tanh", kernel_regularizer="l2"),
                    Dense(1, activation="sigmoid")])
    m.compile(SGD(lr=0.1), "binary_crossentropy")
    logger = GradientLogger()
    m.fit(x[:48], y[:48], epochs=1, verbose=0, validation_data=(x[48:], y[48:]), callbacks=[logger])
    assert logger.loss == pytest.approx(m.evaluate(x[48:], y[48:], verbose=0), rel=1e-5)
    before = [K.get_value(w) for w in m.trainable_weights]
    grads = logger.get_gradients([x[48:], y[48:], np.ones(16)])
    m.train_on_batch(x[48:], y[48:])
    for b, g, w in zip(before, grads, m.trainable_weights):
        np.testing.assert_allclose(K.get_value(w), b - 0.1 * g, rtol=1e-4, atol=1e-6)


def test_total_loss_weighs_outputs_and_samples_as_evaluate_does():
    from kerosene.layers import Input
    from kerosene.models import Model
    rng = np.random.RandomState(1)
    x, y1, y2, w = rng.rand(10, 4), rng.rand(10, 2), rng.rand(10, 1), rng.rand(10)
    i = Input((4,))
    m = Model(i, [Dense(2, name="a")(i), Dense(1, name="b")(i)])
    m.compile("sgd", ["mse", "mae"], loss_weights=[1.0, 0.5])
    assert [t.name for t in m.targets] == ["a_target", "b_target"] and len(m.sample_weights) == 2
    loss = K.function(m._feed_inputs + m._feed_targets + m._feed_sample_weights, [m.total_loss])
    expected = m.evaluate(x, [y1, y2], sample_weight=[w, w], verbose=0)[0]
    assert loss([x, y1, y2, w, w])[0] == pytest.approx(expected, rel=1e-5)
    assert m.total_loss is m.total_loss
    old_targets = m.targets
    m.compile("sgd", ["mse", "mse"])
    assert m.targets[0] is not old_targets[0]   # each compile has its own graph
    assert K.function(m.inputs + m.targets + m.sample_weights, [m.total_loss])([x, y1, y2, w, w])[0] == \
        pytest.approx(m.evaluate(x, [y1, y2], sample_weight=[w, w], verbose=0)[0], rel=1e-5)


def test_an_uncompiled_model_has_no_total_loss():
    m = Sequential([Dense(1, input_shape=(4,))])
    assert not hasattr(m, "total_loss") and not hasattr(m, "targets")
    from kerosene.engine.symbolic_loss import symbolic_loss
    with pytest.raises(AttributeError, match="compile"):
        symbolic_loss(m)


def test_validation_data_an_earlier_fit_handed_over_is_dropped_by_a_fit_without_validation():
    x, y = data()
    m = model()
    reused = Callback()
    m.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_data=(x[:4], y[:4]), callbacks=[reused])
    assert len(reused.validation_data[0]) == 4
    assert "_validation_data_from_fit" not in reused.state_dict()
    m.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[reused])
    assert reused.validation_data is None


class DecayedLR(Callback):
    """Reads the decayed learning rate from lr, decay and iterations, and restarts the decay
    every epoch with K.set_value(iterations, 0), as warm-restart schedules do."""

    def on_train_begin(self, logs=None):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        opt = self.model.optimizer
        decayed = opt.lr / (1. + opt.decay * K.cast(opt.iterations, K.dtype(opt.decay)))
        self.seen.append((int(K.eval(opt.iterations)), float(K.eval(decayed))))
        K.set_value(opt.iterations, 0)


def test_optimizer_iterations_are_read_with_k_eval_and_reset_with_set_value():
    from kerosene.optimizers import SGD
    x, y = data()
    m = model()
    m.compile(SGD(lr=0.1, decay=0.5), "binary_crossentropy")
    cb = DecayedLR()
    m.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[cb])
    assert cb.seen == [(4, pytest.approx(0.1 / 3)), (4, pytest.approx(0.1 / 3))]   # 4 steps again after the reset
    assert m.optimizer.iterations == 0 and K.get_value(m.optimizer.iterations) == 0
    with pytest.raises(ValueError, match="whole number"):
        K.set_value(m.optimizer.iterations, 1.5)


class LossTitles(Callback):
    """Names each loss curve from model.loss and model.output_names, as live loss plotters do."""

    def on_train_begin(self, logs=None):
        loss = self.model.loss
        losses = list(loss.values()) if isinstance(loss, dict) else loss if isinstance(loss, list) else [loss]
        self.titles = {"{}_loss".format(name): str(fn) for name, fn in zip(self.model.output_names, losses)}
        self.metrics = [k for k in self.params["metrics"] if not k.startswith("val_")]


def test_output_names_is_a_list_for_one_output_as_for_several():
    from kerosene.layers import Input
    from kerosene.models import Model
    x, y = data()
    seq = model()
    cb = LossTitles()
    seq.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert seq.output_names == [seq.layers[-1].name] and cb.titles == {seq.layers[-1].name + "_loss": "binary_crossentropy"}
    i = Input((4,))
    single = Model(i, Dense(1, name="only")(i))
    single.compile("sgd", "mse")
    assert single.output_names == ["only"]
    h = single.fit(x, y, epochs=1, verbose=0)
    assert sorted(h.history) == ["loss"]   # one output: no per-output loss keys
    two = Model(i, [Dense(1, name="p")(i), Dense(1, name="q")(i)])
    two.compile("sgd", {"p": "mse", "q": "mae"})
    cb = LossTitles()
    two.fit(x, [y, y], epochs=1, verbose=0, callbacks=[cb])
    assert cb.titles == {"p_loss": "mse", "q_loss": "mae"} and cb.metrics == ["loss", "p_loss", "q_loss"]


class LrItems(Callback):
    """Reads the learning rate as a numpy scalar (``.item()``) and logs it as JSON, as LR plotters do."""

    def on_train_begin(self, logs=None):
        self.lines = []

    def on_epoch_end(self, epoch, logs=None):
        import json
        lr = K.get_value(self.model.optimizer.lr)
        self.lines.append(json.dumps({"epoch": epoch, "lr": lr, "lr_item": lr.item(), "dtype": str(lr.dtype)}))
        K.set_value(self.model.optimizer.lr, lr * 0.5)


def test_learning_rate_values_are_numpy_scalars_that_are_still_floats():
    import json
    x, y = data()
    m = model()
    cb = LrItems()
    m.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    rows = [json.loads(line) for line in cb.lines]
    assert [r["lr"] for r in rows] == [pytest.approx(0.01), pytest.approx(0.005)] and rows[0]["dtype"] == "float64"
    assert isinstance(K.get_value(m.optimizer.lr), float)
