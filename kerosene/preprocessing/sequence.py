"""Keras 2's ``keras.preprocessing.sequence`` (keras_preprocessing 1.0.5): padding,
word2vec skip-gram pairs, and ``TimeseriesGenerator`` windows.

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3],
           [0, 4]], dtype=int32)
"""
import json
import random

import numpy as np

from ..utils.data_utils import Sequence

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator",
           "timeseries_generator_from_json"]


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_int(value, name, where, low):
    if not _is_int(value) or value < low:
        raise ValueError(f"{where}: `{name}` must be an int >= {low}, got {value!r}")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or cut) each sequence to ``maxlen`` (default: the longest) into one array.

    ``padding``/``truncating`` are ``'pre'`` (at the start, the default) or ``'post'``.
    Sequences may hold scalars or equally shaped arrays (the result then has those
    trailing dimensions). For strings give ``dtype=object`` (any length) or a numpy
    string type such as ``'<U5'``, and a string ``value``.

    >>> pad_sequences([['a'], ['b', 'c']], dtype=object, value='', padding='post')
    array([['a', ''],
           ['b', 'c']], dtype=object)
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: `padding` must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: `truncating` must be 'pre' or 'post', got {truncating!r}")
    if maxlen is not None and (not _is_int(maxlen) or maxlen < 0):
        raise ValueError(f"pad_sequences: `maxlen` must be an int >= 0 or None, got {maxlen!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"pad_sequences: `dtype` must be a numpy data type (such as 'int32', 'float32' "
                         f"or object), got {dtype!r}") from None
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: `sequences` must be a list of sequences, got "
                         f"{type(sequences).__name__}")
    lengths = []
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: `sequences` must be a list of sequences (lists or arrays); "
                             f"item {i} is {type(s).__name__} {s!r:.40}")
        lengths.append(len(s))
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape = ()
    for s in sequences:
        if len(s):
            sample_shape = np.asarray(s).shape[1:]
            break
    is_text = np.issubdtype(dtype, np.str_) or dtype == object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type: str "
                         f"({value!r}); use dtype=object for strings of any length, or a numpy string type")
    out = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if not maxlen:
        return out
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {i} holds items of shape {kept.shape[1:]}, "
                             f"the first non-empty one items of shape {tuple(sample_shape)}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's keep-probability for the word of each frequency rank ``0 .. size - 1``.

    Frequencies are approximated from the rank by Zipf's law,
    ``1 / (r * (log r + gamma) + 1/2 - 1/(12 r))`` (rank 0 counted as 1), and a word of
    frequency ``f`` is kept with probability ``min(1, sqrt(sampling_factor / f))``.
    The table is ``skipgrams``'s ``sampling_table``.

    >>> make_sampling_table(4).round(5)
    array([0.00315, 0.00315, 0.00548, 0.00742])
    """
    _check_int(size, "size", "make_sampling_table", 1)
    if isinstance(sampling_factor, bool) or not isinstance(sampling_factor, (int, float, np.number)) \
            or not sampling_factor > 0:
        raise ValueError(f"make_sampling_table: `sampling_factor` must be a number > 0, got {sampling_factor!r}")
    gamma = 0.577
    rank = np.arange(size, dtype=np.float64)
    rank[0] = 1
    inverse_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inverse_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """word2vec training pairs from a sequence of word indices (0 is not a word and is skipped).

    Each word ``w`` (kept with probability ``sampling_table[w]`` when a table is given)
    pairs with every word at most ``window_size`` places away: label 1. Then
    ``int(positives * negative_samples)`` pairs of a shuffled positive's first word and a
    random index in ``[1, vocabulary_size - 1]``: label 0. Labels are ``[0, 1]``/``[1, 0]``
    when ``categorical``. Randomness comes from Python's ``random`` module, as in Keras;
    ``seed`` fixes the final shuffle (without reseeding ``random``).

    >>> couples, labels = skipgrams([1, 2, 3], vocabulary_size=4, window_size=1,
    ...                             negative_samples=0, shuffle=False)
    >>> couples, labels
    ([[1, 2], [2, 1], [2, 3], [3, 2]], [1, 1, 1, 1])

    Returns ``(couples, labels)``, two lists.
    """
    where = "skipgrams"
    _check_int(vocabulary_size, "vocabulary_size", where, 1)
    _check_int(window_size, "window_size", where, 0)
    if isinstance(negative_samples, bool) or not isinstance(negative_samples, (int, float, np.number)) \
            or not negative_samples >= 0:
        raise ValueError(f"{where}: `negative_samples` must be a number >= 0, got {negative_samples!r}")
    if negative_samples > 0 and vocabulary_size < 2:
        raise ValueError(f"{where}: negative samples are drawn from [1, vocabulary_size - 1], so "
                         f"`vocabulary_size` must be >= 2 when negative_samples > 0, got {vocabulary_size!r}")
    if seed is not None and not _is_int(seed):
        raise ValueError(f"{where}: `seed` must be an int or None, got {seed!r}")
    if sampling_table is not None:
        biggest = max((w for w in sequence if w), default=0)
        if np.ndim(sampling_table) != 1 or len(sampling_table) <= biggest:
            raise ValueError(f"{where}: `sampling_table` must be 1-D with an entry for every word index "
                             f"(more than {biggest} entries), got shape {np.shape(sampling_table)}")
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append(positive)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)] for k in range(count)]
        labels += [negative] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10 ** 7)
        # A fresh generator seeded like Keras's ``random.seed(seed)`` gives the same order.
        order = list(range(len(couples)))
        random.Random(seed).shuffle(order)
        couples = [couples[k] for k in order]
        labels = [labels[k] for k in order]
    return couples, labels


def _remove_long_seq(maxlen, seq, label):
    """The sequences shorter than ``maxlen`` and their labels (a helper of the datasets)."""
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


class TimeseriesGenerator(Sequence):
    """Batches of windows over a time series, each with the target of the step after it.

    A sample ends just before row ``t`` and holds ``data[t - length : t : sampling_rate]``
    (reversed when ``reverse``); its target is ``targets[t]``. Rows ``t`` run from
    ``start_index + length`` to ``end_index`` (default the last), every ``stride``-th, or
    are drawn at random when ``shuffle``. A ``keras.utils.Sequence``: ``fit`` takes it.
    Batches are float64, as in Keras.

    >>> data = np.arange(10).reshape(10, 1)
    >>> gen = TimeseriesGenerator(data, data[:, 0], length=3, batch_size=2)
    >>> len(gen)
    4
    >>> x, y = gen[0]
    >>> x[:, :, 0], y
    (array([[0., 1., 2.],
           [1., 2., 3.]]), array([3., 4.]))
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128):
        where = "TimeseriesGenerator"
        # Arrays (and h5py/memmap datasets) are kept as they are; lists become arrays.
        data = data if hasattr(data, "shape") else np.asarray(data)
        targets = targets if hasattr(targets, "shape") else np.asarray(targets)
        if len(data) != len(targets):
            raise ValueError(f"{where}: `data` and `targets` must have the same length, got "
                             f"{len(data)} and {len(targets)}")
        for name, v in (("length", length), ("sampling_rate", sampling_rate), ("stride", stride),
                        ("batch_size", batch_size)):
            _check_int(v, name, where, 1)
        _check_int(start_index, "start_index", where, 0)
        if end_index is None:
            end_index = len(data) - 1
        elif not _is_int(end_index) or not 0 <= end_index < len(data):
            raise ValueError(f"{where}: `end_index` must be None or an int in [0, {len(data) - 1}] "
                             f"(a row of `data`), got {end_index!r}")
        self.data = data
        self.targets = targets
        self.length = int(length)
        self.sampling_rate = int(sampling_rate)
        self.stride = int(stride)
        self.start_index = int(start_index) + self.length   # the first target row (Keras's attribute)
        self.end_index = int(end_index)
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = int(batch_size)
        if self.start_index > self.end_index:
            raise ValueError(f"{where}: `start_index+length={self.start_index} > end_index={self.end_index}` "
                             "is disallowed, as no part of the sequence would be left to be used as "
                             "current step.")

    def __len__(self):
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            if not _is_int(index) or not -len(self) <= index < len(self):
                raise IndexError(f"TimeseriesGenerator: batch `index` {index!r} is out of range for "
                                 f"{len(self)} batches")
            index %= len(self)
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        steps = -(-self.length // self.sampling_rate)
        samples = np.empty((len(rows), steps) + tuple(self.data.shape[1:]))
        targets = np.empty((len(rows),) + tuple(self.targets.shape[1:]))
        for j, row in enumerate(rows):
            samples[j] = self.data[row - self.length:row:self.sampling_rate]
            targets[j] = self.targets[row]
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def get_config(self):
        """The arguments, ``data`` and ``targets`` as JSON strings (so both must hold plain numbers)."""
        encoded = {}
        for name in ("data", "targets"):
            value = getattr(self, name)
            value = value.tolist() if isinstance(value, np.ndarray) else value
            try:
                encoded[name] = json.dumps(value)
            except TypeError as e:
                raise TypeError(f"TimeseriesGenerator.get_config: `{name}` cannot be written as JSON ({e})") from e
        # Unlike keras_preprocessing 1.0.5 (which wrote the shifted attribute), the argument
        # given is written, so that timeseries_generator_from_json rebuilds the same windows.
        return {"data": encoded["data"], "targets": encoded["targets"], "length": self.length,
                "sampling_rate": self.sampling_rate, "stride": self.stride,
                "start_index": self.start_index - self.length, "end_index": self.end_index,
                "shuffle": self.shuffle, "reverse": self.reverse, "batch_size": self.batch_size}

    def to_json(self, **kwargs):
        """``{'class_name': 'TimeseriesGenerator', 'config': get_config()}`` as a JSON string."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def timeseries_generator_from_json(json_string):
    """The ``TimeseriesGenerator`` that ``TimeseriesGenerator.to_json`` wrote."""
    try:
        config = dict(json.loads(json_string)["config"])
        config["data"] = json.loads(config["data"])
        config["targets"] = json.loads(config["targets"])
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"timeseries_generator_from_json: `json_string` must be the JSON of "
                         f"TimeseriesGenerator.to_json(), got {json_string!r:.80}") from e
    return TimeseriesGenerator(**config)
