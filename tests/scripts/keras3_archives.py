"""The Keras 3 side of the ``.keras`` differential tests (run with KERAS_BACKEND=torch).

    python keras3_archives.py write DIR   # Keras 3 trains and saves each model to DIR/<name>.keras, with
                                          # DIR/<name>.npz: data, predictions, one more step's loss and predictions;
                                          # also subclassed.keras and lambda.keras (see write_extras)
    python keras3_archives.py read DIR    # for each DIR/<name>.keras kerosene wrote, Keras 3 loads it, predicts,
                                          # trains one step: DIR/<name>.out.npz; likewise it loads
                                          # DIR/checkpoint.keras and DIR/weights.weights.h5 (both of "dense")

``build(name, api)`` describes each model once for both libraries (``api`` holds
``layers``, ``Input``, ``Sequential``, ``Model``), so the test builds the same
architectures in kerosene.
"""
import os
import sys

import numpy as np

NAMES = ("dense", "conv_pool", "batchnorm", "lstm", "gru", "embedding", "masked", "dropout", "functional",
         "functional_single")


def build(name, api):
    L, Input, Sequential, Model = api["layers"], api["Input"], api["Sequential"], api["Model"]
    if name == "dense":
        return Sequential([Input((6,)), L.Dense(5, activation="relu"), L.Dense(3, activation="softmax")])
    if name == "conv_pool":
        return Sequential([Input((8, 8, 2)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
                           L.Conv2D(3, 2, padding="same"), L.AveragePooling2D(2), L.Flatten(), L.Dense(2)])
    if name == "batchnorm":
        return Sequential([Input((5,)), L.Dense(4, use_bias=False), L.BatchNormalization(), L.Dense(2)])
    if name == "lstm":
        return Sequential([Input((7, 3)), L.LSTM(4, return_sequences=True), L.LSTM(2)])
    if name == "gru":
        return Sequential([Input((7, 3)), L.GRU(4, return_sequences=True), L.GRU(2)])
    if name == "embedding":
        return Sequential([Input((6,), dtype="int32"), L.Embedding(10, 3), L.Flatten(), L.Dense(1)])
    if name == "masked":   # masks from Embedding(mask_zero) through a Bidirectional LSTM and a GRU
        return Sequential([Input((6,), dtype="int32"), L.Embedding(10, 3, mask_zero=True),
                           L.Bidirectional(L.LSTM(3, return_sequences=True)), L.GRU(2)])
    if name == "dropout":
        return Sequential([Input((6,)), L.Dense(8, activation="relu"), L.Dropout(0.3), L.Dense(1)])
    if name == "functional_single":
        x = Input((4,), name="x")
        return Model(x, L.Dense(2, name="head")(L.Dense(3, activation="relu", name="body")(x)))
    a, b = Input((4,), name="a"), Input((4,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    merged = L.concatenate([shared(a), shared(b)])
    return Model([a, b], [L.Dense(1, name="value")(merged), L.Dense(2, activation="softmax", name="kind")(merged)])


def optimizer_of(name, optimizers):
    """Each optimizer whose Keras 3 slot layout kerosene maps, on at least one model."""
    if name == "conv_pool":
        return optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
    if name == "gru":
        return optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True)
    if name == "functional_single":
        return optimizers.Adam(learning_rate=0.01, amsgrad=True)
    return optimizers.Adam(learning_rate=0.01)


def loss_of(name):
    if name == "dense":
        return "categorical_crossentropy"
    if name == "functional":
        return ["mse", "categorical_crossentropy"]
    return "mse"


def data(name, n, seed):
    """(x, y) for model ``name``: inputs and targets of the right structure."""
    rng = np.random.default_rng(seed)
    shapes = {"dense": (6,), "conv_pool": (8, 8, 2), "batchnorm": (5,), "lstm": (7, 3), "gru": (7, 3),
              "dropout": (6,), "functional_single": (4,)}
    if name in ("embedding", "masked"):
        x = rng.integers(0, 10, size=(n, 6)).astype("int32")
        if name == "masked":
            x[:, 4:] = 0                 # padding at the end of every row, and of some rows earlier
            x[: n // 2, 2:] = 0
        return x, rng.normal(size=(n, 1 if name == "embedding" else 2)).astype("float32")
    if name == "functional":
        x = [rng.normal(size=(n, 4)).astype("float32") for _ in range(2)]
        kinds = np.eye(2, dtype="float32")[rng.integers(0, 2, size=n)]
        return x, [rng.normal(size=(n, 1)).astype("float32"), kinds]
    x = rng.normal(size=(n,) + shapes[name]).astype("float32")
    units = {"dense": 3}.get(name, 2 if name in ("conv_pool", "batchnorm", "lstm", "gru", "functional_single") else 1)
    y = rng.normal(size=(n, units)).astype("float32")
    if name == "dense":
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=n)]
    return x, y


def flat(values):
    return [np.asarray(v) for v in (values if isinstance(values, (list, tuple)) else [values])]


def pack(prefix, values):
    return {f"{prefix}{i}": v for i, v in enumerate(flat(values))}


def unpack(npz, prefix):
    keys = sorted((k for k in npz.files if k.startswith(prefix) and k[len(prefix):].isdigit()),
                  key=lambda k: int(k[len(prefix):]))
    values = [npz[k] for k in keys]
    return values[0] if len(values) == 1 else values


def write_extras(keras, folder):
    """Archives for the loading rules: a registered subclassed model and a Lambda of Python code."""
    @keras.saving.register_keras_serializable(package="KeroseneTests")
    class TwoDense(keras.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = keras.layers.Dense(units, activation="relu")
            self.head = keras.layers.Dense(1)

        def call(self, x):
            return self.head(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    keras.utils.set_random_seed(50)
    x, y = data("dropout", 8, 51)   # inputs (n, 6), one target
    models = {"subclassed": TwoDense(5),
              "lambda": keras.Sequential([keras.Input((6,)), keras.layers.Lambda(lambda t: t * 2.0 + 1.0),
                                          keras.layers.Dense(1)])}
    for name, model in models.items():
        model.compile(optimizer="sgd", loss="mse")
        model.train_on_batch(x, y)
        model.save(os.path.join(folder, f"{name}.keras"))
        np.savez(os.path.join(folder, f"{name}.npz"), **pack("before", model.predict(data("dropout", 5, 7)[0],
                                                                                      verbose=0)))


def _keras_api():
    import keras
    return keras, {"layers": keras.layers, "Input": keras.Input, "Sequential": keras.Sequential,
                   "Model": keras.Model}


def write(folder):
    keras, api = _keras_api()
    for i, name in enumerate(NAMES):
        keras.utils.set_random_seed(i)
        model = build(name, api)
        model.compile(optimizer=optimizer_of(name, keras.optimizers), loss=loss_of(name))
        for step in range(3):   # non-trivial weights, moving statistics and Adam moments
            model.train_on_batch(*data(name, 8, 100 + step))
        x_test, _ = data(name, 5, 7)
        x_step, y_step = data(name, 8, 8)
        model.save(os.path.join(folder, f"{name}.keras"))
        before = model.predict(x_test, verbose=0)
        loss = model.train_on_batch(x_step, y_step)
        after = model.predict(x_test, verbose=0)
        np.savez(os.path.join(folder, f"{name}.npz"), loss=np.asarray(loss), **pack("before", before),
                 **pack("after", after))
    write_extras(keras, folder)


def read(folder):
    keras, _ = _keras_api()
    for name in NAMES:
        path = os.path.join(folder, f"{name}.keras")
        if not os.path.exists(path):
            continue
        model = keras.saving.load_model(path)
        x_test, _ = data(name, 5, 7)
        x_step, y_step = data(name, 8, 8)
        before = model.predict(x_test, verbose=0)
        loss = model.train_on_batch(x_step, y_step)
        after = model.predict(x_test, verbose=0)
        np.savez(os.path.join(folder, f"{name}.out.npz"), loss=np.asarray(loss), **pack("before", before),
                 **pack("after", after), iterations=np.asarray(int(model.optimizer.iterations.numpy())))
    _, api = _keras_api()
    for label, arch in (("checkpoint", "dense"), ("weights", "dense")):
        path = os.path.join(folder, f"{label}.weights.h5" if label == "weights" else f"{label}.keras")
        if not os.path.exists(path):
            continue
        if label == "weights":
            model = build(arch, api)
            model.load_weights(path)
        else:
            model = keras.saving.load_model(path)
        np.savez(os.path.join(folder, f"{label}.out.npz"), **pack("before", model.predict(data(arch, 5, 7)[0],
                                                                                          verbose=0)))


if __name__ == "__main__":
    {"write": write, "read": read}[sys.argv[1]](sys.argv[2])
