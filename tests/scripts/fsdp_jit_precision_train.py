"""fit() under FSDP with ``jit_compile=True`` and with ``precision='mixed_float16'``, next to eager FSDP and DDP.

Usage::

    python -m torch.distributed.run --nproc_per_node=2 --standalone tests/scripts/fsdp_jit_precision_train.py OUT

Each rank trains the same Dense stack (Adam, the same global batches) under every
``(distribute, jit_compile, precision)`` of ``CASES`` and writes ``OUT/rank{R}.json``:
per case, the final full weights, the losses, and whether a loss scaler took part.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import kerosene  # noqa: E402
from kerosene import distributed  # noqa: E402
from fsdp_train import make_data  # noqa: E402

CASES = [("fsdp", False, None), ("fsdp", True, None), ("ddp", False, "mixed_float16"),
         ("fsdp", False, "mixed_float16")]


def key(distribute, jit, precision):
    return f"{distribute}-{'jit' if jit else 'eager'}-{precision or 'float32'}"


def train(distribute, jit, precision):
    torch.manual_seed(0)
    model = kerosene.Sequential([kerosene.layers.Dense(32, activation="relu", input_dim=8),
                                 kerosene.layers.Dense(32, activation="relu"),
                                 kerosene.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=kerosene.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  device="cpu", distribute=distribute, jit_compile=jit, precision=precision)
    x, y = make_data()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return {"weights": [w.tolist() for w in model.get_weights()], "loss": history.history["loss"],
            "scaler": model._compile_state.loss_scaler is not None}


def main():
    torch.set_num_threads(1)
    results = {key(*case): train(*case) for case in CASES}
    with open(os.path.join(sys.argv[1], f"rank{distributed.rank()}.json"), "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
