"""Connectionist temporal classification in Keras 2's form: ``K.ctc_batch_cost`` (the loss of
softmax outputs against label sequences, blank = the last class) and ``K.ctc_decode``
(greedy or beam search), on torch's CTC loss.

    >>> import torch
    >>> from kerosene.backend import ctc
    >>> y_pred = torch.tensor([[[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]]])
    >>> decoded, log_prob = ctc.ctc_decode(y_pred, torch.tensor([3]))
    >>> decoded[0]
    tensor([[1, 0]])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..symbolic import apply_symbolic, has_symbolic
from .config import epsilon
from .ops import _float, _t


def _lengths(value, batch, argname, fn_name):
    lengths = _t(value).long().reshape(-1)
    if lengths.shape[0] != batch:
        raise ValueError(f"{fn_name}: `{argname}` must hold one length per sample ({batch}), got shape "
                         f"{tuple(_t(value).shape)}")
    return lengths


def _log_probs(y_pred, fn_name):
    y_pred = _float(y_pred)
    if y_pred.dim() != 3:
        raise ValueError(f"{fn_name}: `y_pred` must be 3-D (samples, time steps, classes incl. the blank), got "
                         f"shape {tuple(y_pred.shape)}")
    # Keras 2 hands log(y_pred + epsilon) to TensorFlow's CTC, which normalizes it as logits.
    return F.log_softmax(torch.log(y_pred + epsilon()), dim=-1)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """The CTC loss of each sample, shape (samples, 1): ``y_true`` (samples, max_label_length)
    holds labels, ``y_pred`` (samples, time, classes) softmax outputs whose last class is the
    blank, ``input_length``/``label_length`` (samples, 1) the lengths to use."""
    log_probs = _log_probs(y_pred, "ctc_batch_cost")
    batch, steps = log_probs.shape[:2]
    labels = _t(y_true).long()
    if labels.dim() != 2 or labels.shape[0] != batch:
        raise ValueError(f"ctc_batch_cost: `y_true` must be 2-D (samples={batch}, max_label_length), got shape "
                         f"{tuple(labels.shape)}")
    inputs_len = _lengths(input_length, batch, "input_length", "ctc_batch_cost")
    labels_len = _lengths(label_length, batch, "label_length", "ctc_batch_cost")
    if bool((inputs_len > steps).any()) or bool((inputs_len < 0).any()):
        raise ValueError(f"ctc_batch_cost: `input_length` must be in [0, {steps}] (the time steps of y_pred), got "
                         f"{inputs_len.tolist()}")
    if bool((labels_len > labels.shape[1]).any()) or bool((labels_len < 0).any()):
        raise ValueError(f"ctc_batch_cost: `label_length` must be in [0, {labels.shape[1]}], got "
                         f"{labels_len.tolist()}")
    loss = F.ctc_loss(log_probs.transpose(0, 1), labels.to(log_probs.device), inputs_len, labels_len,
                      blank=log_probs.shape[-1] - 1, reduction="none", zero_infinity=False)
    return loss.unsqueeze(1).to(log_probs.dtype)


def _greedy(log_probs, lengths, blank):
    best, index = log_probs.max(dim=-1)
    paths, scores = [], []
    for b in range(log_probs.shape[0]):
        n = int(lengths[b])
        seq, previous = [], None
        for c in index[b, :n].tolist():
            if c != previous and c != blank:
                seq.append(c)
            previous = c
        paths.append(seq)
        scores.append(-float(best[b, :n].sum()))   # TensorFlow's score: minus the summed best log-probabilities
    return [paths], torch.tensor(scores).unsqueeze(1)


def _logadd(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


def _beam_one(log_probs, blank, beam_width):
    """Prefix beam search over one sample's (time, classes) log-probabilities: the beams as
    (prefix, log-probability), best first."""
    beams = {(): (0.0, -math.inf)}   # prefix -> (ending in blank, ending in a label)
    for row in log_probs.tolist():
        grown = {}

        def add(prefix, blank_p=-math.inf, label_p=-math.inf):
            old_b, old_l = grown.get(prefix, (-math.inf, -math.inf))
            grown[prefix] = (_logadd(old_b, blank_p), _logadd(old_l, label_p))

        for prefix, (p_b, p_l) in beams.items():
            total = _logadd(p_b, p_l)
            add(prefix, blank_p=total + row[blank])
            for c, p in enumerate(row):
                if c == blank:
                    continue
                if prefix and prefix[-1] == c:
                    add(prefix + (c,), label_p=p_b + p)     # a repeat needs a blank between
                    add(prefix, label_p=p_l + p)            # the repeat merges
                else:
                    add(prefix + (c,), label_p=total + p)
        ranked = sorted(grown.items(), key=lambda kv: _logadd(*kv[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    return [(list(prefix), _logadd(*ps)) for prefix, ps in sorted(beams.items(), key=lambda kv: _logadd(*kv[1]),
                                                                  reverse=True)]


def _beam(log_probs, lengths, blank, beam_width, top_paths):
    paths = [[] for _ in range(top_paths)]
    scores = []
    for b in range(log_probs.shape[0]):
        found = _beam_one(log_probs[b, :int(lengths[b])], blank, beam_width)
        found += [([], -math.inf)] * (top_paths - len(found))
        for k in range(top_paths):
            paths[k].append(found[k][0])
        scores.append([found[k][1] for k in range(top_paths)])
    return paths, torch.tensor(scores)


def _dense(paths):
    width = max([len(p) for p in paths] + [1])
    out = torch.full((len(paths), width), -1, dtype=torch.long)
    for i, p in enumerate(paths):
        out[i, :len(p)] = torch.tensor(p, dtype=torch.long)
    return out


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """The most likely label sequences of softmax outputs ``y_pred`` (samples, time, classes;
    the last class is the blank): ``(decoded, log_prob)``, ``decoded`` a list of ``top_paths``
    (samples, longest) tensors padded with -1. Greedy takes the best class per step, merges
    repeats and drops blanks (``log_prob`` (samples, 1) is minus the summed best
    log-probabilities, as TensorFlow's); beam search keeps ``beam_width`` prefixes
    (``log_prob`` (samples, top_paths) the paths' log-probabilities). On symbolic tensors it
    records one graph node."""
    if has_symbolic((y_pred, input_length)):
        def flat(y_pred_, input_length_):
            decoded, log_prob = ctc_decode(y_pred_, input_length_, greedy, beam_width, top_paths)
            return list(decoded) + [log_prob]

        outs = apply_symbolic(flat, (y_pred, input_length), {}, "ctc_decode")
        return list(outs[:-1]), outs[-1]
    log_probs = _log_probs(y_pred, "ctc_decode").detach().cpu()
    lengths = _lengths(input_length, log_probs.shape[0], "input_length", "ctc_decode")
    if bool((lengths > log_probs.shape[1]).any()) or bool((lengths < 0).any()):
        raise ValueError(f"ctc_decode: `input_length` must be in [0, {log_probs.shape[1]}], got {lengths.tolist()}")
    blank = log_probs.shape[-1] - 1
    if greedy:
        paths, scores = _greedy(log_probs, lengths, blank)
    else:
        for value, argname in ((beam_width, "beam_width"), (top_paths, "top_paths")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ctc_decode: `{argname}` must be a positive int, got {value!r}")
        if top_paths > beam_width:
            raise ValueError(f"ctc_decode: `top_paths` ({top_paths}) cannot exceed `beam_width` ({beam_width})")
        paths, scores = _beam(log_probs, lengths, blank, beam_width, top_paths)
    return [_dense(p) for p in paths], scores.to(log_probs.dtype)


def ctc_label_dense_to_sparse(labels, label_lengths):
    """The first ``label_lengths[i]`` labels of each row of ``labels`` as a torch sparse (COO)
    tensor of the same shape."""
    labels = _t(labels).long()
    if labels.dim() != 2:
        raise ValueError(f"ctc_label_dense_to_sparse: `labels` must be 2-D (samples, max_label_length), got "
                         f"shape {tuple(labels.shape)}")
    lengths = _lengths(label_lengths, labels.shape[0], "label_lengths", "ctc_label_dense_to_sparse")
    keep = torch.arange(labels.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    indices = keep.nonzero().t()
    return torch.sparse_coo_tensor(indices, labels[keep], tuple(labels.shape), check_invariants=True).coalesce()
