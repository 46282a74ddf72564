"""Keras 2's ``keras.preprocessing.sequence``.

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3],
           [0, 4]], dtype=int32)
"""
import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or cut) each sequence to ``maxlen`` (default: the longest) into one array.

    ``padding``/``truncating`` are ``'pre'`` (at the start, the default) or ``'post'``.
    Sequences may hold scalars or equally shaped arrays (the result then has those
    trailing dimensions).
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"`padding` must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"`truncating` must be 'pre' or 'post', got {truncating!r}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0):
        raise ValueError(f"`maxlen` must be an int >= 0 or None, got {maxlen!r}")
    try:
        lengths = [len(s) for s in sequences]
    except TypeError:
        raise ValueError("`sequences` must be a list of sequences (lists or arrays), got "
                         f"{type(sequences).__name__} holding a non-sequence") from None
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape = ()
    for s in sequences:
        if len(s):
            sample_shape = np.asarray(s).shape[1:]
            break
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"`value` is the string {value!r} but `dtype` {dtype!r} is not a text type")
    out = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != tuple(sample_shape):
            raise ValueError(f"Sequence {i} has items of shape {trunc.shape[1:]}, the others {tuple(sample_shape)}")
        if padding == "post":
            out[i, :len(trunc)] = trunc
        else:
            out[i, -len(trunc):] = trunc
    return out
