"""kerosene.distributed in one process: rank helpers, launch checks, and how data is sharded.

The multi-process runs (torchrun, gloo) are in test_distributed_ddp.py.
"""
import numpy as np
import pytest
import torch

import kerosene
from kerosene import distributed
from kerosene.engine.data import ArrayAdapter, LoaderAdapter, SequenceAdapter
from kerosene.engine.shard_data import (EqualStepsAdapter, ShardedArrayAdapter, ShardedLoaderAdapter, StridedAdapter,
                                        share_of)
from kerosene.engine.shard_predict import _in_input_order, _strided_rows

LAUNCH_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "KEROSENE_DIST_INIT_TIMEOUT")


@pytest.fixture
def clean_env(monkeypatch):
    for name in LAUNCH_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def small_model():
    model = kerosene.Sequential([kerosene.layers.Dense(2, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    return model


# --- rank helpers --------------------------------------------------------------------------
def test_single_process_answers(clean_env):
    assert distributed.rank() == 0
    assert distributed.world_size() == 1
    assert distributed.local_rank() == 0
    assert distributed.is_main_process()
    assert not distributed.is_distributed()
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    distributed.barrier()
    assert distributed.setup_for_fit(small_model()) is None
    assert distributed.setup_for_eval(small_model()) is None


def test_rank_helpers_read_the_launch_environment(clean_env):
    clean_env.setenv("RANK", "3")
    clean_env.setenv("WORLD_SIZE", "4")
    clean_env.setenv("LOCAL_RANK", "1")
    assert (distributed.rank(), distributed.world_size(), distributed.local_rank()) == (3, 4, 1)
    assert not distributed.is_main_process()


def test_world_size_one_trains_as_a_single_process(clean_env):
    clean_env.setenv("WORLD_SIZE", "1")
    clean_env.setenv("RANK", "0")
    model = small_model()
    assert distributed.setup_for_fit(model) is None
    history = model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
    assert "world_size" not in history.params


@pytest.mark.parametrize("env, named", [
    ({"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29999"}, "RANK"),
    ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_PORT": "29999"}, "MASTER_ADDR"),
    ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1"}, "MASTER_PORT"),
    ({"WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29999"}, "RANK=2"),
    ({"WORLD_SIZE": "two", "RANK": "0"}, "WORLD_SIZE='two'"),
    ({"WORLD_SIZE": "0", "RANK": "0"}, "WORLD_SIZE=0"),
    ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "http"}, "MASTER_PORT='http'"),
    ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "1", "KEROSENE_DIST_INIT_TIMEOUT": "-3"},
     "KEROSENE_DIST_INIT_TIMEOUT"),
])
def test_broken_launch_environment_is_a_clear_error_before_any_work(clean_env, env, named):
    for key, value in env.items():
        clean_env.setenv(key, value)
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=named):
        model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert not torch.distributed.is_initialized()


def test_set_ddp_options_rejects_unknown_names():
    with pytest.raises(TypeError, match="find_unused_paramters"):
        distributed.set_ddp_options(find_unused_paramters=True)


# --- sharding -------------------------------------------------------------------------------
def test_share_of_splits_rows_evenly_and_completely():
    for rows in range(0, 40):
        for world in (1, 2, 3, 5):
            parts = [share_of(rows, r, world) for r in range(world)]
            assert sum(count for _, count in parts) == rows
            assert max(c for _, c in parts) - min(c for _, c in parts) <= 1
            assert [offset for offset, _ in parts] == list(np.cumsum([0] + [c for _, c in parts])[:-1])


def _rows_of(batches):
    return [batch[0][:, 0].long().tolist() for batch in batches]


@pytest.mark.parametrize("samples, batch, world, shuffle", [
    (203, 16, 2, True), (203, 16, 2, False), (100, 10, 3, True), (64, 16, 2, True), (7, 2, 2, False)])
def test_array_shards_together_are_the_single_process_global_batches(samples, batch, world, shuffle):
    x = torch.arange(samples, dtype=torch.float32).reshape(-1, 1).repeat(1, 2)
    y = torch.zeros(samples, 1)
    single = ArrayAdapter(x, y, batch_size=batch * world, shuffle=shuffle, seed=11)
    shards = [ShardedArrayAdapter(ArrayAdapter(x, y, batch_size=batch, shuffle=shuffle, seed=11), r, world)
              for r in range(world)]
    assert len({s.steps for s in shards}) == 1, "every rank must run the same number of steps"
    for epoch in (0, 1):
        expected = _rows_of(single.epoch_batches(epoch))
        per_rank = [_rows_of(s.epoch_batches(epoch)) for s in shards]
        for step in range(shards[0].steps):
            union = [row for rank_batches in per_rank for row in rank_batches[step]]
            assert union == expected[step]
        skipped = len(expected) - shards[0].steps
        leftover = samples % (batch * world)
        assert skipped == (1 if 0 < leftover < world else 0)


def test_array_shard_fraction_weights_the_uneven_last_batch():
    x = torch.arange(21, dtype=torch.float32).reshape(-1, 1)
    shards = [ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=8), r, 2) for r in range(2)]
    fractions = [[(len(b[0]), s.step_fraction) for b in s.epoch_batches(0)] for s in shards]
    assert fractions[0] == [(8, 0.5), (3, 3 / 5)]
    assert fractions[1] == [(8, 0.5), (2, 2 / 5)]


def test_evaluation_shards_cover_every_sample_once_without_dropping():
    x = torch.arange(5, dtype=torch.float32).reshape(-1, 1)
    shards = [ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=2), r, 4, evaluation=True) for r in range(4)]
    rows = sorted(row for s in shards for batch in _rows_of(s.epoch_batches(0)) for row in batch)
    assert rows == [0, 1, 2, 3, 4]
    assert [s.steps for s in shards] == [1, 1, 1, 1]
    short = [ShardedArrayAdapter(ArrayAdapter(x[:3], x[:3], batch_size=1), r, 4, evaluation=True) for r in range(4)]
    assert [s.steps for s in short] == [1, 1, 1, 0]


def test_steps_per_epoch_counts_global_steps():
    x = torch.zeros(100, 1)
    shard = ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=10, steps=3), 0, 2)
    assert shard.steps == 3
    unlimited = ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=10), 0, 2)
    assert unlimited.steps == 5


def test_loader_shards_are_disjoint_reshuffle_per_epoch_and_cover_eval_once():
    dataset = torch.utils.data.TensorDataset(torch.arange(30, dtype=torch.float32).reshape(-1, 1),
                                             torch.zeros(30, 1))
    def adapter():
        loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True, generator=torch.Generator())
        return LoaderAdapter(loader, torch.device("cpu"), seed=5)
    train = [ShardedLoaderAdapter.from_adapter(adapter(), r, 2) for r in range(2)]
    epoch0 = [sorted(row for b in _rows_of(s.epoch_batches(0)) for row in b) for s in train]
    assert not set(epoch0[0]) & set(epoch0[1])
    assert sorted(epoch0[0] + epoch0[1]) == list(range(30))
    assert train[0].steps == train[1].steps
    order0 = _rows_of(train[0].epoch_batches(0))
    assert order0 != _rows_of(train[0].epoch_batches(1))
    evaluation = [ShardedLoaderAdapter.from_adapter(adapter(), r, 4, evaluation=True) for r in range(4)]
    rows = sorted(row for s in evaluation for b in _rows_of(s.epoch_batches(0)) for row in b)
    assert rows == list(range(30))


class _Batches:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((2, 1), float(i)), torch.zeros(2, 1)

    def on_epoch_end(self):
        pass


def test_sequences_are_strided_by_batch_with_equal_training_steps():
    shards = [StridedAdapter(SequenceAdapter(_Batches(7), torch.device("cpu")), r, 2) for r in range(2)]
    assert [s.steps for s in shards] == [3, 3]
    got = [[int(b[0][0, 0]) for b in s.epoch_batches(0)] for s in shards]
    assert got == [[0, 2, 4], [1, 3, 5]]
    evaluation = [StridedAdapter(SequenceAdapter(_Batches(7), torch.device("cpu")), r, 2, evaluation=True)
                  for r in range(2)]
    assert [[int(b[0][0, 0]) for b in s.epoch_batches(0)] for s in evaluation] == [[0, 2, 4, 6], [1, 3, 5]]


# --- equal steps for evaluate and predict (FSDP: every forward is a collective) ------------------------
def test_a_short_evaluation_share_is_padded_with_filler_batches_that_say_so():
    x = torch.arange(97, dtype=torch.float32).reshape(97, 1)
    share = ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=16), rank=1, world=2, evaluation=True)
    assert share.steps == 3   # the last global batch's single row went to rank 0
    padded = EqualStepsAdapter(share, steps=4)
    seen = [(int(b[0].shape[0]), int(b[0][0, 0]), padded.padding) for b in padded.epoch_batches(0)]
    # The filler is the rank's last batch again, marked as padding, and the flag is cleared afterwards.
    assert seen == [(16, 16, False), (16, 48, False), (16, 80, False), (16, 80, True)]
    assert padded.padding is False
    empty = ShardedArrayAdapter(ArrayAdapter(x[:1], x[:1], batch_size=16), rank=1, world=2, evaluation=True)
    assert empty.steps == 0
    padded_empty = EqualStepsAdapter(empty, steps=1)
    filler = [(b[0][:, 0].tolist(), padded_empty.padding) for b in padded_empty.epoch_batches(0)]
    assert filler == [([0.0], True)]   # a rank with no row at all runs on the data's first rows


def test_predict_outputs_are_put_back_in_input_order_output_by_output():
    # Rank 0 held rows 0, 2, 4 and rank 1 rows 1, 3; the outputs are a list of [value, dict].
    rows = [np.array([0, 2, 4]), np.array([1, 3])]
    every = [[np.array([[0.], [2.], [4.]]), {"d": np.array([0, 20, 40])}],
             [np.array([[1.], [3.]]), {"d": np.array([10, 30])}]]
    whole = _in_input_order(every, rows)
    assert whole[0][:, 0].tolist() == [0., 1., 2., 3., 4.]
    assert whole[1]["d"].tolist() == [0, 10, 20, 30, 40]
    assert _in_input_order([np.array([5.]), None], [np.array([0]), np.zeros(0, int)]).tolist() == [5.]


def test_sequence_batches_dealt_out_by_rank_map_back_to_their_rows():
    # 4 batches of 2, 2, 2, 1 rows: rank 0 ran batches 0 and 2, rank 1 batches 1 and 3.
    got = _strided_rows([[2, 2], [2, 1]], world=2)
    assert [g.tolist() for g in got] == [[0, 1, 4, 5], [2, 3, 6]]
