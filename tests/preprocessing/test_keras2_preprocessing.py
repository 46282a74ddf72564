"""pad_sequences and Tokenizer against Keras's own (legacy) implementations."""
import numpy as np
import pytest

from kerosene.preprocessing.sequence import pad_sequences
from kerosene.preprocessing.text import Tokenizer, text_to_word_sequence

keras_text = pytest.importorskip("keras.src.legacy.preprocessing.text")
keras_pad = pytest.importorskip("keras.src.utils.sequence_utils").pad_sequences

SEQS = [[1, 2, 3, 4], [5], [], [6, 7, 8, 9, 10, 11]]
TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a mat?", "the THE the"]


@pytest.mark.parametrize("kwargs", [{}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"},
                                    {"maxlen": 3, "truncating": "post"}, {"maxlen": 8, "value": -1},
                                    {"dtype": "float32", "maxlen": 5, "padding": "post", "value": 0.5}])
def test_pad_sequences_matches_keras(kwargs):
    ours, theirs = pad_sequences(SEQS, **kwargs), keras_pad(SEQS, **kwargs)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


def test_pad_sequences_bad_arguments():
    with pytest.raises(ValueError, match="padding.*'middle'"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating=None)
    with pytest.raises(ValueError, match="maxlen.*-2"):
        pad_sequences(SEQS, maxlen=-2)
    with pytest.raises(ValueError, match="sequences"):
        pad_sequences([1, 2])


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 5}, {"num_words": 6, "oov_token": "<unk>"},
                                    {"char_level": True, "num_words": 8}, {"lower": False}])
@pytest.mark.parametrize("mode", ["binary", "count", "freq", "tfidf"])
def test_tokenizer_matches_keras(kwargs, mode):
    ours, theirs = Tokenizer(**kwargs), keras_text.Tokenizer(**kwargs)
    ours.fit_on_texts(TEXTS)
    theirs.fit_on_texts(TEXTS)
    assert ours.word_index == theirs.word_index
    queries = TEXTS + ["an unseen cat"]
    assert ours.texts_to_sequences(queries) == theirs.texts_to_sequences(queries)
    np.testing.assert_allclose(ours.texts_to_matrix(queries, mode=mode), theirs.texts_to_matrix(queries, mode=mode))
    seqs = theirs.texts_to_sequences(queries)
    np.testing.assert_allclose(ours.sequences_to_matrix(seqs, mode=mode), theirs.sequences_to_matrix(seqs, mode=mode))


def test_text_to_word_sequence_and_errors():
    assert text_to_word_sequence("Hello, World!  again") == ["hello", "world", "again"]
    tok = Tokenizer(num_words=4)
    with pytest.raises(ValueError, match="mode.*'bag'"):
        tok.sequences_to_matrix([[1]], mode="bag")
    with pytest.raises(ValueError, match="tfidf"):
        tok.sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(TypeError, match="one string"):
        tok.fit_on_texts("just one text")
    with pytest.raises(ValueError, match="num_words.*0"):
        Tokenizer(num_words=0)
