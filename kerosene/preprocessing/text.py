"""Keras 2's ``keras.preprocessing.text``: ``Tokenizer`` and ``text_to_word_sequence``.

    >>> tok = Tokenizer(num_words=10)
    >>> tok.fit_on_texts(['the cat sat', 'the dog'])
    >>> tok.texts_to_sequences(['the cat ran'])
    [[1, 2]]
"""
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["Tokenizer", "text_to_word_sequence", "one_hot"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Lower-case, replace ``filters`` characters by ``split``, and split into words."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Each word's index in ``[1, n)`` by hashing (collisions possible, as in Keras)."""
    import hashlib
    return [int(hashlib.md5(w.encode()).hexdigest(), 16) % (n - 1) + 1
            for w in text_to_word_sequence(text, filters, lower, split)]


class Tokenizer:
    """Turns texts into sequences of word indices (1 = most frequent) or into matrices.

    ``num_words`` keeps only the ``num_words - 1`` most frequent words; ``oov_token``
    stands in for the rest (index 1 when given)::

        tok = Tokenizer(num_words=1000)
        tok.fit_on_texts(texts)
        x = tok.texts_to_matrix(texts, mode='tfidf')
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, document_count=0, **kwargs):
        if kwargs:
            raise TypeError(f"Tokenizer: unexpected keyword arguments {sorted(kwargs)}")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1):
            raise ValueError(f"Tokenizer: `num_words` must be a positive int or None, got {num_words!r}")
        self.num_words = num_words
        self.filters, self.lower, self.split, self.char_level = filters, lower, split, char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _words(self, text):
        if self.char_level or isinstance(text, list):
            return [t.lower() for t in text] if self.lower and not isinstance(text, list) else list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count words over ``texts`` (strings, or lists of tokens) and build ``word_index``."""
        if isinstance(texts, str):
            raise TypeError("fit_on_texts: `texts` must be a list of texts, got one string")
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for w in words:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(words):
                self.word_docs[w] += 1
        # most frequent first; ties keep first-seen order (a stable sort)
        ordered = [w for w, _ in sorted(self.word_counts.items(), key=lambda kv: -kv[1])]
        if self.oov_token is not None:
            ordered = [self.oov_token] + [w for w in ordered if w != self.oov_token]
        self.word_index = {w: i for i, w in enumerate(ordered, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})

    def fit_on_sequences(self, sequences):
        """Count documents per index (needed for tfidf when fitting on sequences)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (unknown or rare words dropped, or ``oov_token``)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            seq = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and (not self.num_words or i < self.num_words):
                    seq.append(i)
                elif oov is not None:
                    seq.append(oov)
            yield seq

    def sequences_to_texts(self, sequences):
        return [" ".join(self.index_word[i] for i in seq if i in self.index_word and
                         (not self.num_words or i < self.num_words)) for seq in sequences]

    def texts_to_matrix(self, texts, mode="binary"):
        """``(len(texts), num_words)`` matrix: ``binary``, ``count``, ``freq`` or ``tfidf``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """``(len(sequences), num_words)`` matrix of word presence, counts, frequencies or tf-idf."""
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}")
        if not self.num_words:
            if not self.word_index:
                raise ValueError("Specify `num_words` for the Tokenizer, or fit it on texts first")
            num_words = len(self.word_index) + 1
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("mode='tfidf' needs document counts: fit the Tokenizer on texts or sequences first")
        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            if not seq:
                continue
            counts = defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = tf * idf
        return x

    def get_config(self):
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count}
