"""What imdb and reuters share: word-index sequences re-indexed the Keras way."""
import json

import numpy as np

from . import _download
from ._safe_load import load_npz, require_hash
from ._split import check_optional_int, check_seed


def check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    check_optional_int(num_words, "num_words", 1)
    check_optional_int(skip_top, "skip_top")
    check_optional_int(maxlen, "maxlen", 1)
    check_seed(seed)
    check_optional_int(start_char, "start_char")
    check_optional_int(oov_char, "oov_char")
    check_optional_int(index_from, "index_from")


def load_object_npz(path, remote_name, file_hash):
    """Fetch a published ``.npz`` of object arrays; loaded only when its hash is the published one."""
    local = _download.fetch(path, remote_name, file_hash)
    require_hash(local, file_hash, _download.origin_of(remote_name))
    return load_npz(local, allow_objects=True)


def shift(sequences, start_char, index_from):
    """Shift word indices by ``index_from`` and prepend ``start_char`` (when not None)."""
    head = [] if start_char is None else [start_char]
    return [head + [int(w) + index_from for w in seq] for seq in sequences]


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char``, or are dropped when it is None.

    With no ``num_words`` the bound is the largest index present, which (as in Keras)
    marks that one word out of vocabulary too.
    """
    if not num_words:
        num_words = max((max(s) for s in sequences if s), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in sequences]
    return [[w for w in s if skip_top <= w < num_words] for s in sequences]


def drop_long(sequences, labels, maxlen):
    """Keep the sequences shorter than ``maxlen`` (as Keras does)."""
    keep = [i for i, s in enumerate(sequences) if len(s) < maxlen]
    return [sequences[i] for i in keep], labels[keep]


def as_object_array(sequences):
    arr = np.empty(len(sequences), dtype=object)
    for i, s in enumerate(sequences):
        arr[i] = s
    return arr


def load_word_index(path, remote_name, file_hash):
    with open(_download.fetch(path, remote_name, file_hash), encoding="utf-8") as f:
        return json.load(f)
