"""engine/logs.py on its own: lazy batch logs and the epoch's size-weighted means."""
import math

import numpy as np
import torch

from kerosene.engine.logs import BatchLogs, EpochAggregator, to_floats


def test_batch_logs_turn_tensors_into_floats_when_read():
    logs = BatchLogs({"loss": torch.tensor(0.25), "acc": torch.tensor(1.0)}, batch=3, size=8)
    assert logs["batch"] == 3 and logs["size"] == 8
    assert type(logs["loss"]) is np.float64 and logs["loss"] == 0.25  # numpy scalars, as Keras 2 (Python floats too)
    assert dict(logs.items()) == {"batch": 3, "size": 8, "loss": 0.25, "acc": 1.0}
    assert logs.get("missing", "x") == "x"


def test_epoch_means_are_weighted_by_batch_size():
    agg = EpochAggregator()
    agg.update({"loss": torch.tensor(1.0)}, 30)
    agg.update({"loss": torch.tensor(4.0), "acc": torch.tensor(0.5)}, 10)
    assert agg.steps == 2
    result = agg.result()
    assert result["loss"] == (1.0 * 30 + 4.0 * 10) / 40
    assert result["acc"] == 0.5   # a key present in some batches is averaged over those
    agg.update({"loss": torch.tensor(0.0)}, 40)
    assert agg.result()["loss"] == (70.0 + 0.0) / 80   # folding keeps earlier sums
    agg.reset()
    assert agg.result() == {}


def test_a_restored_aggregator_reduces_to_the_same_bits():
    agg = EpochAggregator()
    for i, size in enumerate((7, 9, 3)):
        agg.update({"loss": torch.tensor(0.1 * (i + 1), dtype=torch.float32)}, size)
    agg.running()            # fold part of the epoch, as the progress bar does
    agg.update({"loss": torch.tensor(0.7)}, 5)
    again = EpochAggregator()
    again.load_state_dict(agg.state_dict(), device=torch.device("cpu"))
    assert again.result() == agg.result()


def test_to_floats_keeps_non_tensors_and_nan():
    out = to_floats({"loss": torch.tensor(float("nan")), "batch": 2})
    assert math.isnan(out["loss"]) and out["batch"] == 2


def test_sums_can_be_replaced_by_sums_over_ranks():
    agg = EpochAggregator()
    agg.update({"loss": torch.tensor(2.0)}, 4)
    sums = agg.sums()
    assert float(sums["loss"][0]) == 8.0 and sums["loss"][1] == 4.0
    # what the distributed context does: this rank's sums plus another rank's (loss 4.0 over 4 rows)
    agg.set_sums({"loss": (sums["loss"][0] + 16.0, sums["loss"][1] + 4.0)})
    assert agg.result() == {"loss": 3.0} and agg.steps == 0
