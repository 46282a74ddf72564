"""Keras 2's ``keras.preprocessing.text`` (keras_preprocessing 1.0.5): words from texts,
hashed word indices, and the ``Tokenizer``.

    >>> text_to_word_sequence('The cat, the hat!')
    ['the', 'cat', 'the', 'hat']
    >>> tok = Tokenizer(num_words=10)
    >>> tok.fit_on_texts(['the cat sat', 'the dog'])
    >>> tok.texts_to_sequences(['the cat ran'])
    [[1, 2]]
"""
import hashlib
import json
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer", "tokenizer_from_json"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def _check_text(text, where):
    if not isinstance(text, str):
        raise TypeError(f"{where}: `text` must be a string, got {type(text).__name__} {text!r:.60}")


def _check_split(split, where):
    if not isinstance(split, str) or not split:
        raise ValueError(f"{where}: `split` must be a non-empty string, got {split!r}")


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """The words of ``text``: lower-cased (``lower``), every character of ``filters``
    replaced by ``split``, then split on ``split`` with empty pieces dropped.

    >>> text_to_word_sequence('hello!stop?world!', split='stop')
    ['hello', 'world']
    """
    _check_text(text, "text_to_word_sequence")
    _check_split(split, "text_to_word_sequence")
    try:
        table = str.maketrans({c: split for c in filters})
    except (TypeError, ValueError):
        raise ValueError(f"text_to_word_sequence: `filters` must be a string (or a list) of single characters, "
                         f"got {filters!r}") from None
    if lower:
        text = text.lower()
    text = text.translate(table)
    return [w for w in text.split(split) if w]


def _md5(word):
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Each word of ``text`` as ``hash_function(word) % (n - 1) + 1``, an index in ``[1, n - 1]``.

    ``hash_function`` is ``None`` (Python's ``hash``: differs between runs unless
    ``PYTHONHASHSEED`` is set), ``'md5'`` (stable) or a function from a word to an int.
    Different words may share an index.

    >>> hashing_trick('The cat sat', 100, hash_function='md5')
    [51, 3, 10]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"hashing_trick: `n` (the size of the hashing space) must be an int >= 2, got {n!r}")
    if hash_function is None:
        hash_function = hash
    elif isinstance(hash_function, str):
        if hash_function != "md5":
            raise ValueError(f"hashing_trick: `hash_function` must be None, 'md5' or a callable, "
                             f"got {hash_function!r}")
        hash_function = _md5
    elif not callable(hash_function):
        raise ValueError(f"hashing_trick: `hash_function` must be None, 'md5' or a callable, got {hash_function!r}")
    return [hash_function(w) % (n - 1) + 1 for w in text_to_word_sequence(text, filters, lower, split)]


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """``hashing_trick`` with Python's ``hash``: each word's index in ``[1, n - 1]``."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split)


def _check_texts(texts, where):
    if isinstance(texts, str):
        raise TypeError(f"{where}: `texts` must be a list of texts (or of token lists), got one string "
                        f"{texts!r:.60}; wrap it in a list")


class Tokenizer:
    """Turns texts into sequences of word indices (1 = most frequent) or into matrices.

    Index 0 is never a word. ``num_words`` keeps only the words of index below it when
    converting (``word_index`` still holds every word); ``oov_token``, when given, takes
    index 1 and stands in for words left out. A text may also be a list of tokens.

    >>> tok = Tokenizer(num_words=4, oov_token='<unk>')
    >>> tok.fit_on_texts(['The cat sat on the mat.', 'The dog sat.'])
    >>> tok.word_index['the'], tok.word_index['sat']
    (2, 3)
    >>> tok.texts_to_sequences(['the dog sat'])
    [[2, 1, 3]]
    >>> tok.sequences_to_texts([[2, 1, 3]])
    ['the <unk> sat']
    >>> tok.texts_to_matrix(['the the mat'], mode='count')
    array([[0., 1., 2., 0.]])
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, document_count=0, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("Tokenizer: the `nb_words` argument is named `num_words` since Keras 2", UserWarning,
                          stacklevel=2)
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Tokenizer: unexpected keyword arguments {sorted(kwargs)}; accepted: num_words, "
                            "filters, lower, split, char_level, oov_token, document_count")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer))
                                      or num_words < 1):
            raise ValueError(f"Tokenizer: `num_words` must be a positive int or None, got {num_words!r}")
        _check_split(split, "Tokenizer")
        if isinstance(document_count, bool) or not isinstance(document_count, (int, np.integer)) \
                or document_count < 0:
            raise ValueError(f"Tokenizer: `document_count` must be an int >= 0, got {document_count!r}")
        self.num_words = None if num_words is None else int(num_words)
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = int(document_count)
        self.word_counts = OrderedDict()   # word -> occurrences, in first-seen order
        self.word_docs = defaultdict(int)  # word -> number of texts holding it
        self.index_docs = defaultdict(int)  # index -> number of texts (or sequences) holding it
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        if isinstance(text, list):
            return [t.lower() for t in text] if self.lower else text
        if self.char_level:
            _check_text(text, "Tokenizer(char_level=True)")
            return text.lower() if self.lower else text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens; any iterable) and
        rebuild ``word_index``; calling it again adds to the counts."""
        _check_texts(texts, "Tokenizer.fit_on_texts")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        # Most frequent first; equal counts keep first-seen order (sorting is stable).
        ordered = [w for w, _ in sorted(self.word_counts.items(), key=lambda kv: kv[1], reverse=True)]
        if self.oov_token is not None:
            # As Keras: the token is put first; should it also occur in the texts, its place
            # by count wins (index 1 is then left unused), so indices match Keras's.
            ordered = [self.oov_token] + ordered
        self.word_index = dict(zip(ordered, range(1, len(ordered) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count, for each index, the sequences holding it (what ``mode='tfidf'`` needs when
        the Tokenizer has seen no texts)."""
        sequences = list(sequences)
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices; words unknown or of index ``>= num_words``
        are dropped, or become ``oov_token``'s index when there is one."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """``texts_to_sequences`` one text at a time."""
        _check_texts(texts, "Tokenizer.texts_to_sequences")
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            seq = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        seq.append(oov)
                else:
                    seq.append(i)
            yield seq

    def sequences_to_texts(self, sequences):
        """Each sequence of indices back to a space-joined text (the inverse of
        ``texts_to_sequences`` up to dropped words and filtered characters)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """``sequences_to_texts`` one sequence at a time."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        words.append(self.index_word[oov])
                else:
                    words.append(word)
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary"):
        """``(len(texts), num_words)`` matrix: ``'binary'``, ``'count'``, ``'freq'`` or ``'tfidf'``."""
        _check_texts(texts, "Tokenizer.texts_to_matrix")
        self._check_mode(mode)
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    @staticmethod
    def _check_mode(mode):
        if mode not in MODES:
            raise ValueError(f"Tokenizer: `mode` must be one of {MODES}, got {mode!r}")

    def sequences_to_matrix(self, sequences, mode="binary"):
        """``(len(sequences), num_words)`` float64 matrix, column ``j`` for index ``j``:

        ``'binary'`` 1 where present, ``'count'`` occurrences, ``'freq'`` occurrences over
        the sequence length, ``'tfidf'`` ``(1 + log count) * log(1 + documents / (1 + documents
        holding j))``. Without ``num_words`` the width is ``len(word_index) + 1``.
        """
        self._check_mode(mode)
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Tokenizer.sequences_to_matrix: give the Tokenizer `num_words`, "
                             "or fit it on texts first (the matrix width is unknown)")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Tokenizer.sequences_to_matrix: mode='tfidf' needs document counts; "
                             "fit the Tokenizer on texts or sequences first")
        x = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts = defaultdict(int)
            for j in seq:
                if j < width:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    def get_config(self):
        """The settings and, as JSON strings, the counts and indices (Keras's layout)."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token,
                "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        """``{'class_name': 'Tokenizer', 'config': get_config()}`` as a JSON string
        (``kwargs`` go to ``json.dumps``); ``tokenizer_from_json`` reads it back."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


_COUNT_KEYS = ("word_counts", "word_docs", "index_docs", "index_word", "word_index")


def tokenizer_from_json(json_string):
    """The ``Tokenizer`` that ``Tokenizer.to_json`` wrote (fitted state included).

    >>> tok = Tokenizer()
    >>> tok.fit_on_texts(['a b b'])
    >>> tokenizer_from_json(tok.to_json()).word_index
    {'b': 1, 'a': 2}
    """
    try:
        full = json.loads(json_string)
        config = dict(full["config"])
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"tokenizer_from_json: `json_string` must be the JSON of Tokenizer.to_json() "
                         f"(a 'config' object inside), got {json_string!r:.80}") from e
    missing = [k for k in _COUNT_KEYS if k not in config]
    if missing:
        raise ValueError(f"tokenizer_from_json: the config lacks {missing}; expected the output of "
                         "Tokenizer.to_json()")
    counts = {k: json.loads(config.pop(k)) for k in _COUNT_KEYS}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(counts["word_counts"])
    tokenizer.word_docs = defaultdict(int, counts["word_docs"])
    # JSON object keys are strings: the index-keyed tables get their int keys back.
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in counts["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in counts["index_word"].items()}
    tokenizer.word_index = counts["word_index"]
    return tokenizer
