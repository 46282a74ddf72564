"""IMDB movie reviews: 25,000 train and 25,000 test reviews as word-index lists, labels 0/1.

    >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=20000)  # doctest: +SKIP
"""
import numpy as np

from . import _word_sequences as ws

__all__ = ["load_data", "get_word_index"]

REMOTE_NAME = "imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_NAME = "imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``; ``x`` are object arrays of lists of word indices.

    Each split is shuffled with ``seed``; indices are shifted by ``index_from``, each review
    starts with ``start_char``, words outside ``[skip_top, num_words)`` become ``oov_char``
    (or are dropped when it is None), and reviews of ``maxlen`` words or more are dropped.
    """
    if kwargs:
        raise TypeError(f"imdb.load_data: unexpected keyword arguments {sorted(kwargs)}")
    ws.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    data = ws.load_object_npz(path, REMOTE_NAME, FILE_HASH)
    rng = np.random.RandomState(seed)
    splits = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = data[x_key], np.asarray(data[y_key])
        order = np.arange(len(x))
        rng.shuffle(order)
        splits.append((list(x[order]), y[order]))
    (x_train, y_train), (x_test, y_test) = [(ws.shift(x, start_char, index_from), y) for x, y in splits]
    if maxlen:
        x_train, y_train = ws.drop_long(x_train, y_train, maxlen)
        x_test, y_test = ws.drop_long(x_test, y_test, maxlen)
        if not x_train or not x_test:
            raise ValueError(f"imdb.load_data: maxlen={maxlen} drops every review of a split; use a larger maxlen")
    both = ws.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    x_train, x_test = both[:len(x_train)], both[len(x_train):]
    return (ws.as_object_array(x_train), y_train), (ws.as_object_array(x_test), y_test)


def get_word_index(path="imdb_word_index.json"):
    """The dict mapping words to their index (before the ``index_from`` shift)."""
    return ws.load_word_index(path, WORD_INDEX_NAME, WORD_INDEX_HASH)
