"""keras.preprocessing.sequence (keras_preprocessing 1.0.5's): pad_sequences, skip-grams,
the word2vec sampling table and TimeseriesGenerator.

References are numpy written here; Keras 3's legacy module (the same algorithms) is the
differential oracle where it is installed."""
import json
import math
import random

import numpy as np
import pytest

from kerosene.preprocessing import sequence as S
from kerosene.utils.data_utils import Sequence


@pytest.fixture
def keras_sequence():
    return pytest.importorskip("keras.src.legacy.preprocessing.sequence")


def test_docstring_examples_run():
    import doctest
    assert doctest.testmod(S).failed == 0


# ---------------------------------------------------------------- pad_sequences

def _pad_reference(seqs, maxlen, padding, truncating, value, dtype, sample_shape=()):
    out = np.full((len(seqs), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(seqs):
        s = list(s)
        kept = s[max(0, len(s) - maxlen):] if truncating == "pre" else s[:maxlen]
        start = maxlen - len(kept) if padding == "pre" else 0
        for k, item in enumerate(kept):
            out[i, start + k] = item
    return out


SEQS = [[1], [1, 2], [1, 2, 3], [], [4, 5, 6, 7, 8]]


@pytest.mark.parametrize("maxlen", [None, 0, 1, 3, 7])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_matches_the_reference(maxlen, padding, truncating):
    out = S.pad_sequences(SEQS, maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    expected = _pad_reference(SEQS, 5 if maxlen is None else maxlen, padding, truncating, -1, "int32")
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int32


def test_pad_sequences_defaults_and_dtypes():
    out = S.pad_sequences([[1, 2], [3]])
    np.testing.assert_array_equal(out, [[1, 2], [0, 3]])
    assert out.dtype == np.int32
    out = S.pad_sequences([[0.5, 1.5], [2.25]], dtype="float32", value=0.1, padding="post")
    np.testing.assert_array_equal(out, np.array([[0.5, 1.5], [2.25, 0.1]], dtype="float32"))
    assert out.dtype == np.float32
    out = S.pad_sequences((np.array([1, 2, 3]), (4,)), maxlen=2, dtype=np.int64)
    np.testing.assert_array_equal(out, [[2, 3], [0, 4]])
    assert out.dtype == np.int64
    assert S.pad_sequences([[1.7, -2.2]]).tolist() == [[1, -2]]   # cast to the int dtype, as numpy does
    assert S.pad_sequences([]).shape == (0, 0)
    assert S.pad_sequences([[], []]).shape == (2, 0)


def test_pad_sequences_of_vectors():
    a = [[[1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]], []]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            out = S.pad_sequences(a, maxlen=2, padding=padding, truncating=truncating, value=9)
            np.testing.assert_array_equal(out, _pad_reference(a, 2, padding, truncating, 9, "int32", (2,)))
    assert S.pad_sequences(a).shape == (4, 3, 2)
    with pytest.raises(ValueError, match=r"sequence 1 holds items of shape \(3,\), the first non-empty one "
                                         r"items of shape \(2,\)"):
        S.pad_sequences([[[1, 1]], [[1, 2, 3]]])


def test_pad_sequences_of_strings():
    a = [["1"], ["1", "2"], ["1", "2", "3"]]
    out = S.pad_sequences(a, maxlen=3, padding="pre", value="pad", dtype=object)
    assert out.tolist() == [["pad", "pad", "1"], ["pad", "1", "2"], ["1", "2", "3"]] and out.dtype == object
    out = S.pad_sequences(a, maxlen=3, padding="post", value="pad", dtype="<U3")
    assert out.tolist() == [["1", "pad", "pad"], ["1", "2", "pad"], ["1", "2", "3"]] and out.dtype == "<U3"
    out = S.pad_sequences(a, maxlen=2, truncating="post", value="pad", dtype=object)
    assert out.tolist() == [["pad", "1"], ["1", "2"], ["1", "2"]]
    out = S.pad_sequences([["a long word", "b"], ["ç"]], value="", dtype=object)
    assert out.tolist() == [["a long word", "b"], ["", "ç"]]
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with `value`'s type: str.*dtype=object"):
        S.pad_sequences(a, maxlen=2, value="pad")
    with pytest.raises(ValueError, match="`dtype` float32 is not compatible"):
        S.pad_sequences(a, value="pad", dtype="float32")


@pytest.mark.parametrize("kwargs", [{}, {"maxlen": 2, "padding": "post"}, {"maxlen": 4, "truncating": "post",
                                                                          "value": 7, "dtype": "float64"}])
def test_pad_sequences_matches_keras(keras_sequence, kwargs):
    keras_pad = pytest.importorskip("keras").utils.pad_sequences
    for seqs in (SEQS, [[[1, 2]], [[3, 4], [5, 6], [7, 8]]]):
        ours, theirs = S.pad_sequences(seqs, **kwargs), keras_pad(seqs, **kwargs)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


def test_pad_sequences_refuses_bad_arguments():
    with pytest.raises(ValueError, match="`padding` must be 'pre' or 'post', got 'middle'"):
        S.pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="`truncating` must be 'pre' or 'post', got None"):
        S.pad_sequences(SEQS, truncating=None)
    for bad in (-2, 2.5, "3", True):
        with pytest.raises(ValueError, match=f"`maxlen` must be an int >= 0 or None, got {bad!r}"):
            S.pad_sequences(SEQS, maxlen=bad)
    with pytest.raises(ValueError, match="`dtype` must be a numpy data type.*got 'integer32'"):
        S.pad_sequences(SEQS, dtype="integer32")
    with pytest.raises(ValueError, match="`sequences` must be a list of sequences.*item 0 is int 1"):
        S.pad_sequences([1, 2])
    with pytest.raises(ValueError, match="`sequences` must be a list of sequences, got generator"):
        S.pad_sequences(s for s in SEQS)


# ---------------------------------------------------------------- make_sampling_table

def test_make_sampling_table_by_the_formula():
    table = S.make_sampling_table(6, sampling_factor=1e-3)
    expected = []
    for r in range(6):
        r = max(r, 1)
        zipf_inverse_frequency = r * (math.log(r) + 0.577) + 0.5 - 1 / (12 * r)
        expected.append(min(1.0, math.sqrt(1e-3 * zipf_inverse_frequency)))
    np.testing.assert_allclose(table, expected, rtol=1e-12)
    np.testing.assert_allclose(S.make_sampling_table(3), [0.00315225, 0.00315225, 0.00547597], rtol=1e-5)
    assert S.make_sampling_table(100, sampling_factor=0.5).max() == 1.0
    assert S.make_sampling_table(1).shape == (1,) and S.make_sampling_table(5).dtype == np.float64


def test_make_sampling_table_matches_keras(keras_sequence):
    for size, factor in ((1000, 1e-5), (50, 0.01)):
        np.testing.assert_allclose(S.make_sampling_table(size, factor),
                                   keras_sequence.make_sampling_table(size, factor), rtol=1e-13)


def test_make_sampling_table_refuses_bad_arguments():
    for bad in (0, -1, 2.0, None):
        with pytest.raises(ValueError, match=f"`size` must be an int >= 1, got {bad!r}"):
            S.make_sampling_table(bad)
    for bad in (0, -1e-5, "1e-5", None):
        with pytest.raises(ValueError, match=f"`sampling_factor` must be a number > 0, got {bad!r}"):
            S.make_sampling_table(10, sampling_factor=bad)


# ---------------------------------------------------------------- skipgrams

def _positive_pairs(seq, window):
    return sorted([seq[i], seq[j]] for i in range(len(seq)) for j in range(len(seq))
                  if seq[i] and seq[j] and i != j and abs(i - j) <= window)


def test_skipgrams_positive_pairs_are_the_window_neighbours():
    seq = [3, 0, 5, 1, 2, 0, 4]
    for window in (0, 1, 2, 10):
        couples, labels = S.skipgrams(seq, 6, window_size=window, negative_samples=0)
        assert sorted(couples) == _positive_pairs(seq, window)
        assert labels == [1] * len(couples)
    couples, labels = S.skipgrams(seq, 6, window_size=1, negative_samples=0, shuffle=False)
    assert couples == [[5, 1], [1, 5], [1, 2], [2, 1]]


def test_skipgrams_negative_samples():
    random.seed(0)
    seq = list(range(1, 9))
    couples, labels = S.skipgrams(seq, 30, window_size=2, negative_samples=1.5, shuffle=False)
    positives = _positive_pairs(seq, 2)
    n = len(positives)
    assert labels == [1] * n + [0] * int(n * 1.5)
    assert sorted(couples[:n]) == positives
    firsts = sorted(c[0] for c in couples[:n])
    negatives = couples[n:]
    # each positive's first word is used once, then again from the start
    assert sorted(c[0] for c in negatives[:n]) == firsts
    assert all(1 <= c[1] <= 29 for c in negatives)
    couples, labels = S.skipgrams([0, 0, 0], 5)
    assert couples == [] and labels == []


def test_skipgrams_categorical_labels_and_a_shuffle_that_keeps_pairs_with_labels():
    seq = [1, 2, 3, 4, 5]
    couples, labels = S.skipgrams(seq, 1000, window_size=1, categorical=True, seed=5)
    assert len(couples) == 16 and labels.count([0, 1]) == 8 and labels.count([1, 0]) == 8
    for (a, b), label in zip(couples, labels):
        if label == [0, 1]:
            assert abs(a - b) == 1
    again = S.skipgrams(seq, 1000, window_size=1, categorical=True, negative_samples=0, seed=5)
    assert again == S.skipgrams(seq, 1000, window_size=1, categorical=True, negative_samples=0, seed=5)
    shuffled = S.skipgrams(seq, 1000, window_size=1, negative_samples=0, seed=5)[0]
    assert shuffled != S.skipgrams(seq, 1000, window_size=1, negative_samples=0, shuffle=False)[0]
    assert sorted(shuffled) == _positive_pairs(seq, 1)


def test_skipgrams_sampling_table_keeps_words_by_their_probability():
    seq = [1, 2, 3, 4] * 50
    table = np.array([0.0, 1.0, 0.0, 1.0, 0.0])   # keep words 1 and 3 only (as the centre word)
    couples, _ = S.skipgrams(seq, 5, window_size=1, negative_samples=0, sampling_table=table)
    assert {c[0] for c in couples} == {1, 3} and {c[1] for c in couples} == {2, 4}
    random.seed(1)
    table = np.full(5, 0.5)
    couples, _ = S.skipgrams(seq, 5, window_size=1, negative_samples=0, sampling_table=table)
    assert 0.35 * 398 < len(couples) < 0.65 * 398


@pytest.mark.parametrize("kwargs", [{}, {"window_size": 1, "categorical": True}, {"negative_samples": 2.5, "seed": 3},
                                    {"shuffle": False}, {"sampling_factor": 0.05}])
def test_skipgrams_matches_keras_from_the_same_random_state(keras_sequence, kwargs):
    kwargs = dict(kwargs)
    if "sampling_factor" in kwargs:
        kwargs["sampling_table"] = S.make_sampling_table(20, kwargs.pop("sampling_factor"))
    seq = [0, 3, 5, 1, 0, 7, 8, 2, 9, 19, 4, 4]
    random.seed(11)
    ours = S.skipgrams(seq, 20, **kwargs)
    random.seed(11)
    theirs = keras_sequence.skipgrams(seq, 20, **kwargs)
    assert ours == theirs


def test_skipgrams_seed_leaves_python_random_alone():
    random.seed(4)
    expected = random.random()
    random.seed(4)
    S.skipgrams([1, 2, 3], 10, negative_samples=0, seed=7)
    assert random.random() == expected


def test_skipgrams_refuses_bad_arguments():
    with pytest.raises(ValueError, match="`vocabulary_size` must be an int >= 1, got 0"):
        S.skipgrams([1, 2], 0)
    with pytest.raises(ValueError, match="`vocabulary_size` must be >= 2 when negative_samples > 0, got 1"):
        S.skipgrams([1, 2], 1)
    assert S.skipgrams([1, 1], 1, negative_samples=0, shuffle=False) == ([[1, 1], [1, 1]], [1, 1])
    with pytest.raises(ValueError, match="`window_size` must be an int >= 0, got -1"):
        S.skipgrams([1, 2], 5, window_size=-1)
    with pytest.raises(ValueError, match="`negative_samples` must be a number >= 0, got -0.5"):
        S.skipgrams([1, 2], 5, negative_samples=-0.5)
    with pytest.raises(ValueError, match="`seed` must be an int or None, got 'x'"):
        S.skipgrams([1, 2], 5, seed="x")
    with pytest.raises(ValueError, match=r"`sampling_table` must be 1-D.*more than 7 entries.*shape \(5,\)"):
        S.skipgrams([1, 7], 8, sampling_table=np.ones(5))


def test_remove_long_seq_keeps_the_shorter_ones():
    seqs, labels = S._remove_long_seq(5, [[1, 2, 3], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5], []], ["a", "b", "c", "d"])
    assert seqs == [[1, 2, 3], []] and labels == ["a", "d"]


# ---------------------------------------------------------------- TimeseriesGenerator

def _windows_reference(data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                       reverse=False, batch_size=128):
    end_index = len(data) - 1 if end_index is None else end_index
    rows = list(range(start_index + length, end_index + 1, stride))
    batches = []
    for b in range(0, len(rows), batch_size):
        chunk = rows[b:b + batch_size]
        x = np.array([[data[k] for k in range(t - length, t, sampling_rate)] for t in chunk], dtype=np.float64)
        if reverse:
            x = x[:, ::-1]
        batches.append((x, np.array([targets[t] for t in chunk], dtype=np.float64)))
    return batches


GENERATOR_CASES = [{}, {"sampling_rate": 2}, {"stride": 3, "batch_size": 4}, {"batch_size": 1},
                   {"start_index": 5, "end_index": 30, "reverse": True}, {"length": 1, "batch_size": 50},
                   {"batch_size": 7, "stride": 2, "sampling_rate": 3, "length": 9}, {"length": 7, "sampling_rate": 3},
                   {"start_index": 10, "end_index": 16, "length": 6}]


@pytest.mark.parametrize("kwargs", GENERATOR_CASES)
def test_timeseries_generator_matches_the_reference(kwargs):
    kwargs = {"length": 6, "batch_size": 5, **kwargs}
    data = np.arange(120).reshape(40, 3) * 0.5
    targets = np.arange(40) ** 2
    gen = S.TimeseriesGenerator(data, targets, **kwargs)
    expected = _windows_reference(data, targets, **kwargs)
    assert len(gen) == len(expected)
    for (x, y), (ex, ey) in zip((gen[i] for i in range(len(gen))), expected):
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)
        assert x.dtype == y.dtype == np.float64
    assert len(list(gen)) == len(gen)


def test_timeseries_generator_by_hand():
    data = np.array([[i] for i in range(50)])
    gen = S.TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])
    x, y = gen[-1]
    np.testing.assert_array_equal(y, [[48], [49]])
    gen = S.TimeseriesGenerator(data, data, length=10, sampling_rate=2, stride=2, batch_size=2)
    assert len(gen) == 10
    np.testing.assert_array_equal(gen[1][0][:, :, 0], [[4, 6, 8, 10, 12], [6, 8, 10, 12, 14]])
    gen = S.TimeseriesGenerator(data, data, length=10, sampling_rate=2, start_index=10, end_index=30,
                                batch_size=2)
    assert len(gen) == 6 and gen.start_index == 20 and gen.end_index == 30
    assert gen[5][1].tolist() == [[30]]     # the last batch is shorter


def test_timeseries_generator_multidimensional_data_and_lists():
    rng = np.random.default_rng(0)
    data, targets = rng.random((50, 1, 2, 3)), rng.random((50, 3, 2))
    gen = S.TimeseriesGenerator(data, targets, length=10, sampling_rate=2, start_index=10, end_index=30,
                                batch_size=2)
    np.testing.assert_array_equal(gen[0][0], [data[10:19:2], data[11:20:2]])
    np.testing.assert_array_equal(gen[0][1], [targets[20], targets[21]])
    gen = S.TimeseriesGenerator([[float(i)] for i in range(8)], list(range(8)), length=3, batch_size=8)
    np.testing.assert_array_equal(gen[0][0][:, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]])
    np.testing.assert_array_equal(gen[0][1], [3, 4, 5, 6, 7])


def test_timeseries_generator_shuffle_draws_rows_at_random(seeded):
    data = np.arange(50).reshape(50, 1)
    gen = S.TimeseriesGenerator(data, data, length=10, sampling_rate=2, shuffle=True, batch_size=16)
    seen = set()
    for i in range(4):
        x, y = gen[i]
        assert x.shape == (16, 5, 1)
        for window, target in zip(x[:, :, 0], y[:, 0]):
            np.testing.assert_array_equal(window, target - np.array([10, 8, 6, 4, 2]))
            assert 10 <= target <= 49
            seen.add(target)
    assert len(seen) > 20
    # shuffled, every batch is full: len() still counts the ordered batches
    assert len(gen) == math.ceil(40 / 16)


def test_timeseries_generator_does_not_miss_a_row():
    x = np.arange(23).reshape(23, 1)
    for stride, length, batch_size in ((1, 3, 6), (5, 4, 6), (7, 3, 5), (3, 1, 6), (5, 3, 6), (3, 7, 6)):
        gen = S.TimeseriesGenerator(x, x, length=length, stride=stride, batch_size=batch_size)
        ys = np.concatenate([gen[i][1] for i in range(len(gen))])[:, 0]
        np.testing.assert_array_equal(ys, np.arange(length, 23, stride))


@pytest.mark.parametrize("kwargs", GENERATOR_CASES[:7])
def test_timeseries_generator_matches_keras(keras_sequence, kwargs):
    kwargs = {"length": 6, "batch_size": 5, **kwargs}
    data = np.arange(120).reshape(40, 3) * 0.5
    ours, theirs = S.TimeseriesGenerator(data, data[:, 1], **kwargs), keras_sequence.TimeseriesGenerator(
        data, data[:, 1], **kwargs)
    assert len(ours) == len(theirs)
    for i in range(len(ours)):
        for a, b in zip(ours[i], theirs[i]):
            np.testing.assert_array_equal(a, b)


def test_timeseries_generator_is_a_sequence_and_round_trips_through_json():
    data = np.arange(100).reshape(50, 2)
    gen = S.TimeseriesGenerator(data, data[:, 0], length=10, sampling_rate=2, stride=3, start_index=4,
                                end_index=40, reverse=True, batch_size=3)
    assert isinstance(gen, Sequence)
    config = gen.get_config()
    assert config["start_index"] == 4 and json.loads(config["data"]) == data.tolist()
    assert json.loads(gen.to_json())["class_name"] == "TimeseriesGenerator"
    back = S.timeseries_generator_from_json(gen.to_json())
    for name in ("length", "sampling_rate", "stride", "start_index", "end_index", "shuffle", "reverse",
                 "batch_size"):
        assert getattr(back, name) == getattr(gen, name), name
    assert len(back) == len(gen)
    for i in range(len(gen)):
        np.testing.assert_array_equal(back[i][0], gen[i][0])
        np.testing.assert_array_equal(back[i][1], gen[i][1])
    with pytest.raises(TypeError, match="`data` cannot be written as JSON"):
        S.TimeseriesGenerator(np.array([object()] * 5, dtype=object), np.zeros(5), length=2).get_config()
    with pytest.raises(ValueError, match="`json_string` must be the JSON of TimeseriesGenerator.to_json()"):
        S.timeseries_generator_from_json('{"class_name": "TimeseriesGenerator"}')


def test_timeseries_generator_refuses_bad_arguments():
    data = np.zeros((50, 1))
    with pytest.raises(ValueError, match=r"`start_index\+length=50 > end_index=49` is disallowed"):
        S.TimeseriesGenerator(data, data, length=50)
    with pytest.raises(ValueError, match=r"`start_index\+length=25 > end_index=20`"):
        S.TimeseriesGenerator(data, data, length=5, start_index=20, end_index=20)
    with pytest.raises(ValueError, match="`data` and `targets` must have the same length, got 50 and 49"):
        S.TimeseriesGenerator(data, data[1:], length=5)
    for name in ("length", "sampling_rate", "stride", "batch_size"):
        for bad in (0, 1.5, None):
            with pytest.raises(ValueError, match=f"`{name}` must be an int >= 1, got {bad!r}"):
                S.TimeseriesGenerator(data, data, **{"length": 5, name: bad})
    with pytest.raises(ValueError, match="`start_index` must be an int >= 0, got -1"):
        S.TimeseriesGenerator(data, data, length=5, start_index=-1)
    for bad in (50, -1, 3.0):
        with pytest.raises(ValueError, match=rf"`end_index` must be None or an int in \[0, 49\].*got {bad!r}"):
            S.TimeseriesGenerator(data, data, length=5, end_index=bad)
    gen = S.TimeseriesGenerator(data, data, length=5, batch_size=10)
    with pytest.raises(IndexError, match="batch `index` 5 is out of range for 5 batches"):
        gen[5]


def test_timeseries_generator_feeds_fit_and_fit_generator(seeded):
    from kerosene import layers as L
    from kerosene.models import Sequential
    from kerosene.optimizers import Adam
    t = np.arange(400) * 0.1
    series = np.stack([np.sin(t), np.cos(t)], axis=1).astype("float32")
    gen = S.TimeseriesGenerator(series, series[:, 0], length=8, sampling_rate=2, batch_size=32)
    val = S.TimeseriesGenerator(series, series[:, 0], length=8, sampling_rate=2, start_index=300, batch_size=32)
    model = Sequential([L.LSTM(8, input_shape=(4, 2)), L.Dense(1)])
    model.compile(Adam(lr=0.02), "mse")
    history = model.fit(gen, epochs=8, verbose=0, validation_data=val)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert history.history["val_loss"][-1] < 0.05
    more = model.fit_generator(gen, steps_per_epoch=len(gen), epochs=2, verbose=0)
    assert more.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(gen).shape == (len(series) - 8, 1)
    assert np.isfinite(model.evaluate_generator(val, steps=len(val)))
