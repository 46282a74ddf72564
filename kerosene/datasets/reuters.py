"""Reuters newswires: 11,228 wires as word-index lists, labelled with 46 topics.

    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=1000, test_split=0.2)  # doctest: +SKIP
"""
import numpy as np

from . import _word_sequences as ws
from ._split import check_split

__all__ = ["load_data", "get_word_index"]

REMOTE_NAME = "reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_NAME = "reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: wires shuffled with ``seed``, the last
    ``test_split`` of them for test; re-indexed as :func:`kerosene.datasets.imdb.load_data`."""
    if kwargs:
        raise TypeError(f"reuters.load_data: unexpected keyword arguments {sorted(kwargs)}")
    ws.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    check_split(test_split)
    data = ws.load_object_npz(path, REMOTE_NAME, FILE_HASH)
    xs, labels = data["x"], np.asarray(data["y"])
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = ws.shift(list(xs[order]), start_char, index_from), labels[order]
    if maxlen:
        xs, labels = ws.drop_long(xs, labels, maxlen)
        if not xs:
            raise ValueError(f"reuters.load_data: maxlen={maxlen} drops every wire; use a larger maxlen")
    xs = ws.limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return (ws.as_object_array(xs[:cut]), labels[:cut]), (ws.as_object_array(xs[cut:]), labels[cut:])


def get_word_index(path="reuters_word_index.json"):
    """The dict mapping words to their index (before the ``index_from`` shift)."""
    return ws.load_word_index(path, WORD_INDEX_NAME, WORD_INDEX_HASH)
