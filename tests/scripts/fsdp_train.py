"""fit() under FSDP, DDP or one process over the same global batches: the FSDP tests' script.

Usage::

    python -m torch.distributed.run --nproc_per_node=2 --standalone tests/scripts/fsdp_train.py OUT

Under the launch each rank trains every case of ``CASES`` (a Dense stack and a plain
``nn.Module`` model, each with SGD and with Adam) twice, with ``distribute='fsdp'`` and
with ``'ddp'``, and writes ``OUT/rank{R}.json``: per case and engine, the final full
weights, the history, and (FSDP) the bytes of this rank's local shards of parameters and
optimizer state next to the whole. ``train_case()`` is imported by the tests for the
single-process baseline.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import kerosene  # noqa: E402
from kerosene import distributed  # noqa: E402

SAMPLES, FEATURES, CLASSES, EPOCHS = 128, 8, 3, 3
UNEVEN, EVAL_ROWS = 101, (101, 97)
CASES = [(arch, opt) for arch in ("dense", "module") for opt in ("sgd", "adam")]


class Net(kerosene.Model):
    """A plain torch network: its top-level children are the FSDP units."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(FEATURES, 32)
        self.out = torch.nn.Linear(32, CLASSES)

    def forward(self, x):
        return torch.softmax(self.out(torch.relu(self.hidden(x))), dim=-1)


def make_data(samples=SAMPLES):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(CLASSES, FEATURES)) * 2
    labels = rng.integers(0, CLASSES, size=samples)
    x = (centers[labels] + rng.normal(size=(samples, FEATURES))).astype("float32")
    return x, np.eye(CLASSES, dtype="float32")[labels]


def make_model(arch, opt, distribute, precision=None):
    torch.manual_seed(0)
    if arch == "dense":
        model = kerosene.Sequential([kerosene.layers.Dense(32, activation="relu", input_dim=FEATURES),
                                     kerosene.layers.Dense(32, activation="relu"),
                                     kerosene.layers.Dense(CLASSES, activation="softmax")])
    else:
        model = Net()
    optimizer = (kerosene.optimizers.SGD(learning_rate=0.1, momentum=0.9) if opt == "sgd"
                 else kerosene.optimizers.Adam(learning_rate=0.01))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"], device="cpu",
                  distribute=distribute, precision=precision)
    return model


def _full(tensor):
    return tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor


def _local(tensor):
    return tensor.to_local() if hasattr(tensor, "to_local") else tensor


def shard_bytes(model):
    """(this rank's local bytes, the whole's bytes) of parameters plus optimizer state."""
    tensors = list(model.parameters())
    for slots in model._compile_state.optimizer.state.values():
        tensors += [v for v in slots.values() if isinstance(v, torch.Tensor) and v.dim() > 0]
    local = sum(_local(t).numel() * t.element_size() for t in tensors)
    whole = sum(t.numel() * t.element_size() for t in tensors)
    return local, whole


def train_case(arch, opt, distribute="auto", batch_size=32, samples=SAMPLES, validation=None):
    x, y = make_data(samples)
    model = make_model(arch, opt, distribute)
    history = model.fit(x, y, batch_size=batch_size, epochs=EPOCHS, shuffle=True, verbose=0,
                        validation_data=validation)
    local, whole = shard_bytes(model)
    return {"weights": [_full(p.detach()).tolist() for p in model.parameters()],
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "param_types": sorted({type(p).__name__ for p in model.parameters()}),
            "local_bytes": local, "whole_bytes": whole}


def weights_case(out, arch):
    """Weights out of and into a trained FSDP model: get/set_weights, .h5 files, ModelCheckpoint, predict."""
    x, y = make_data()
    model = make_model(arch, "adam", "fsdp")
    # A plain nn.Module model has no config to save: its checkpoint holds the weights alone.
    checkpoint = kerosene.callbacks.ModelCheckpoint(os.path.join(out, f"{arch}-ckpt.h5"),
                                                    save_weights_only=arch == "module")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[checkpoint])
    trained = model.get_weights()
    result = {"trained": [w.tolist() for w in trained],
              "predict": model.predict(x[:8], verbose=0).tolist(),
              "param_types": sorted({type(p).__name__ for p in model.parameters()})}
    model.save_weights(os.path.join(out, f"{arch}-w.h5"))
    model.save_weights(os.path.join(out, f"{arch}-w.dcp"))   # each rank writes its own shards
    if arch == "dense":
        model.save(os.path.join(out, f"{arch}-m.h5"))
    pattern = [np.arange(w.size, dtype="float32").reshape(w.shape) / 100 for w in trained]
    model.set_weights(pattern)
    result["after_set"] = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), pattern))
    model.load_weights(os.path.join(out, f"{arch}-w.h5"))
    result["after_load"] = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))
    result["param_types_after"] = sorted({type(p).__name__ for p in model.parameters()})
    try:
        model.save_weights(os.path.join(out, f"{arch}-w.pt"))
    except ValueError as err:
        result["pt_error"] = str(err)
    return result


class BatchSizes(kerosene.callbacks.Callback):
    """The rows of each batch this rank's predict saw."""

    def __init__(self):
        super().__init__()
        self.sizes = []

    def on_predict_batch_end(self, batch, logs=None):
        self.sizes.append(int(np.shape(logs["outputs"])[0]))


def uneven_case(engine):
    """fit over 101 samples (the last global batch split 3/2), then evaluate and predict over 101 and 97 rows.

    With 97 rows and batch 16 on 2 ranks rank 1's share of the last global batch is empty: it runs
    one forward fewer of its own, which under FSDP would leave rank 0 waiting in a collective.
    """
    x, y = make_data(UNEVEN)
    model = make_model("dense", "adam", engine)
    history = model.fit(x, y, batch_size=16, epochs=EPOCHS, shuffle=True, verbose=0,
                        validation_data=uneven_validation())
    result = {"weights": [_full(p.detach()).tolist() for p in model.parameters()],
              "trained": [w.tolist() for w in model.get_weights()],
              "history": {k: [float(v) for v in vs] for k, vs in history.history.items()}}
    for rows in EVAL_ROWS:
        sizes = BatchSizes()
        result[f"evaluate-{rows}"] = model.evaluate(x[:rows], y[:rows], batch_size=16, verbose=0, return_dict=True)
        result[f"predict-{rows}"] = model.predict(x[:rows], batch_size=16, callbacks=[sizes]).tolist()
        result[f"predict-sizes-{rows}"] = sizes.sizes
    result["evaluate-1"] = model.evaluate(x[:1], y[:1], batch_size=16, verbose=0, return_dict=True)
    result["predict-1"] = model.predict(x[:1], batch_size=16).tolist()   # rank 1 has no row at all
    result.update(loader_and_sequence_case(model, x[:EVAL_ROWS[1]], y[:EVAL_ROWS[1]]))
    result["multi_output"] = multi_output_predict(engine, x, y)
    return result


def uneven_validation():
    """33 validation rows: batches of 32 then 1, so rank 1 has no row in the second."""
    x, y = make_data(SAMPLES)
    return x[-33:], y[-33:]


class Rows(kerosene.utils.Sequence):
    """``x`` in batches of 16 rows by index (97 rows: 7 batches, 4 for rank 0 and 3 for rank 1)."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return -(-len(self.x) // 16)

    def __getitem__(self, index):
        return self.x[index * 16:(index + 1) * 16]


def loader_and_sequence_case(model, x, y):
    """evaluate and predict over a DataLoader (rows dealt out 49/48) and predict over a Sequence (batches 4/3)."""
    rows = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    inputs = torch.utils.data.TensorDataset(torch.from_numpy(x))
    sizes = {"loader": BatchSizes(), "sequence": BatchSizes()}
    return {"evaluate-loader": model.evaluate(torch.utils.data.DataLoader(rows, batch_size=16), verbose=0,
                                              return_dict=True),
            "predict-loader": model.predict(torch.utils.data.DataLoader(inputs, batch_size=16),
                                            callbacks=[sizes["loader"]]).tolist(),
            "predict-sequence": model.predict(Rows(x), callbacks=[sizes["sequence"]]).tolist(),
            "predict-sizes-loader": sizes["loader"].sizes, "predict-sizes-sequence": sizes["sequence"].sizes}


def make_two_output_model(engine):
    torch.manual_seed(1)
    inputs = kerosene.layers.Input(shape=(FEATURES,))
    hidden = kerosene.layers.Dense(16, activation="relu")(inputs)
    model = kerosene.models.Model(inputs, [kerosene.layers.Dense(CLASSES, activation="softmax", name="c")(hidden),
                                           kerosene.layers.Dense(1, name="r")(hidden)])
    model.compile("sgd", ["categorical_crossentropy", "mse"], device="cpu", distribute=engine)
    return model


def multi_output_predict(engine, x, y):
    """A two-output model trained one epoch (sharded under FSDP), then its list of predictions."""
    model = make_two_output_model(engine)
    model.fit(x, [y, x[:, :1]], batch_size=16, epochs=1, verbose=0)
    return {"weights": [w.tolist() for w in model.get_weights()],
            "predict": [p.tolist() for p in model.predict(x[:EVAL_ROWS[1]], batch_size=16)]}


def bfloat16_case(engine):
    """mixed_bfloat16 training, with the dtype the first layer's weights have inside its training forward."""
    x, y = make_data()
    model = make_model("dense", "sgd", engine, precision="mixed_bfloat16")
    seen = set()
    first = model.layers[0]
    first.register_forward_pre_hook(lambda module, args: seen.add(str(next(module.parameters()).dtype))
                                    if module.training else None)
    history = model.fit(x, y, batch_size=16, epochs=EPOCHS, shuffle=True, verbose=0)
    return {"weights": [w.tolist() for w in model.get_weights()], "forward_dtypes": sorted(seen),
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "master_dtypes": sorted({str(p.dtype) for p in model.parameters()})}


def loader_fit_case(engine, batch_size=16):
    """fit from an unshuffled DataLoader: under a launch each rank reads every other row (DistributedSampler)."""
    x, y = make_data()
    model = make_model("dense", "sgd", engine)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=batch_size)
    history = model.fit(loader, epochs=EPOCHS, verbose=0)
    return {"weights": [w.tolist() for w in model.get_weights()], "steps": history.params["steps"],
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()}}


def main():
    out = sys.argv[1]
    results = {f"{arch}-{opt}-{engine}": train_case(arch, opt, engine, batch_size=16)
               for arch, opt in CASES for engine in ("fsdp", "ddp")}
    results.update({f"weights-{arch}": weights_case(out, arch) for arch in ("dense", "module")})
    results.update({f"uneven-{engine}": uneven_case(engine) for engine in ("fsdp", "ddp")})
    results.update({f"bfloat16-{engine}": bfloat16_case(engine) for engine in ("fsdp", "ddp")})
    results.update({f"loader-fit-{engine}": loader_fit_case(engine) for engine in ("fsdp", "ddp")})
    results["world_size"] = distributed.world_size()
    with open(os.path.join(out, f"rank{distributed.rank()}.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
