"""keras.preprocessing.text (keras_preprocessing 1.0.5's): words, hashed indices, Tokenizer.

Expected values are worked out by hand or from hashlib; Keras 3's legacy Tokenizer (the
same algorithm as 1.0.5) is the differential oracle where it is installed."""
import hashlib
import json
import pickle
import re
from collections import OrderedDict

import numpy as np
import pytest

from kerosene.preprocessing import sequence as S
from kerosene.preprocessing import text as T

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a mat?", "the THE the unk",
         ["Tok", "list", "cat"]]


@pytest.fixture
def keras_text():
    return pytest.importorskip("keras.src.legacy.preprocessing.text")


def test_docstring_examples_run():
    import doctest
    assert doctest.testmod(T).failed == 0


# ---------------------------------------------------------------- text_to_word_sequence

@pytest.mark.parametrize("text, kwargs, expected", [
    ("hello! ? world!", {}, ["hello", "world"]),
    ("Hello, World!  again\tand\nmore", {}, ["hello", "world", "again", "and", "more"]),
    ("Hello World", {"lower": False}, ["Hello", "World"]),
    ("it's a-b", {}, ["it's", "a", "b"]),
    ("a.b,c", {"filters": "."}, ["a", "b,c"]),
    ("hello!stop?world!", {"split": "stop"}, ["hello", "world"]),
    ("a,b;c", {"split": ",", "filters": ";"}, ["a", "b", "c"]),
    ("ali! veli? kırk dokuz elli", {}, ["ali", "veli", "kırk", "dokuz", "elli"]),
    ("ali!stopveli?stopkırkstopdokuzstopelli", {"split": "stop"}, ["ali", "veli", "kırk", "dokuz", "elli"]),
    ("ÇAĞ Öğle", {}, ["çağ", "öğle"]),
    ("", {}, []),
    ("!!!", {}, []),
])
def test_text_to_word_sequence(text, kwargs, expected):
    assert T.text_to_word_sequence(text, **kwargs) == expected


@pytest.mark.parametrize("bad", [None, b"bytes", 3, ["a", "b"]])
def test_text_to_word_sequence_refuses_a_text_that_is_no_string(bad):
    with pytest.raises(TypeError, match="`text` must be a string"):
        T.text_to_word_sequence(bad)


@pytest.mark.parametrize("bad", ["", None, 1])
def test_text_to_word_sequence_refuses_an_empty_or_non_string_split(bad):
    with pytest.raises(ValueError, match=f"`split` must be a non-empty string, got {bad!r}"):
        T.text_to_word_sequence("a b", split=bad)


def test_filters_may_be_a_list_of_characters():
    assert T.text_to_word_sequence("a.b-c d", filters=[".", "-"]) == ["a", "b", "c", "d"]
    assert T.text_to_word_sequence("a.b", filters=[]) == ["a.b"]


@pytest.mark.parametrize("bad", [None, ["ab"], 5])
def test_text_to_word_sequence_refuses_filters_that_are_not_single_characters(bad):
    with pytest.raises(ValueError, match=r"`filters` must be a string \(or a list\) of single characters, got "
                       + re.escape(repr(bad))):
        T.text_to_word_sequence("a b", filters=bad)


# ---------------------------------------------------------------- hashing_trick / one_hot

def _md5_index(word, n):
    return int(hashlib.md5(word.encode("utf8")).hexdigest(), 16) % (n - 1) + 1


def test_hashing_trick_md5_matches_hashlib():
    words = ["the", "cat", "sat", "on", "the", "mat", "kırk"]
    encoded = T.hashing_trick("The cat sat on the mat. Kırk", 50, hash_function="md5")
    assert encoded == [_md5_index(w, 50) for w in words]
    assert encoded[0] == encoded[4]     # the same word, the same index


def test_hashing_trick_default_is_python_hash_and_one_hot_too():
    text = "The cat sat on the mat."
    expected = [hash(w) % 6 + 1 for w in ["the", "cat", "sat", "on", "the", "mat"]]
    assert T.hashing_trick(text, 7) == expected
    assert T.hashing_trick(text, 7, hash_function=None) == expected
    assert T.one_hot(text, 7) == expected


def test_hashing_trick_with_a_callable_and_the_word_options():
    assert T.hashing_trick("Ab, cde", 10, hash_function=len) == [3, 4]
    assert T.hashing_trick("Ab,cde", 10, hash_function=len, filters="", split=",") == [3, 4]
    assert T.hashing_trick("AB ab", 100, hash_function=lambda w: ord(w[0]), lower=False) == [66, 98]
    assert T.one_hot("AB ab", 100) == [T.one_hot("ab", 100)[0]] * 2


@pytest.mark.parametrize("n", [2, 3, 5, 1000])
def test_hashed_indices_stay_in_1_to_n_minus_1(n):
    text = " ".join(f"w{i}" for i in range(200))
    for encoded in (T.hashing_trick(text, n, hash_function="md5"), T.one_hot(text, n), T.hashing_trick(text, n)):
        assert len(encoded) == 200 and min(encoded) >= 1 and max(encoded) <= n - 1
    if n <= 5:
        assert set(T.hashing_trick(text, n, hash_function="md5")) == set(range(1, n))


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True, "5", None])
def test_hashing_trick_refuses_a_bad_n(bad):
    with pytest.raises(ValueError, match=f"`n`.*int >= 2, got {bad!r}"):
        T.hashing_trick("a b", bad)
    with pytest.raises(ValueError, match="`n`"):
        T.one_hot("a b", bad)


@pytest.mark.parametrize("bad", ["sha1", "MD5", 3, [len]])
def test_hashing_trick_refuses_a_bad_hash_function(bad):
    expected = "`hash_function` must be None, 'md5' or a callable, got " + re.escape(repr(bad))
    with pytest.raises(ValueError, match=expected):
        T.hashing_trick("a b", 5, hash_function=bad)


# ---------------------------------------------------------------- Tokenizer: by hand

def test_word_index_is_by_frequency_ties_in_first_seen_order():
    tok = T.Tokenizer()
    tok.fit_on_texts(["b a c", "a c d", "a"])
    assert list(tok.word_counts.items()) == [("b", 1), ("a", 3), ("c", 2), ("d", 1)]
    assert isinstance(tok.word_counts, OrderedDict)
    assert tok.word_index == {"a": 1, "c": 2, "b": 3, "d": 4}
    assert tok.index_word == {1: "a", 2: "c", 3: "b", 4: "d"}
    assert dict(tok.word_docs) == {"b": 1, "a": 3, "c": 2, "d": 1}
    assert dict(tok.index_docs) == {3: 1, 1: 3, 2: 2, 4: 1}
    assert tok.document_count == 3


def test_lower_flag_for_sentences_token_lists_and_characters():
    tok = T.Tokenizer(lower=True)
    tok.fit_on_texts(["The cat", "the Cat."])
    assert tok.word_counts == OrderedDict([("the", 2), ("cat", 2)])
    tok = T.Tokenizer(lower=True)
    tok.fit_on_texts([["The", "cat"], ["THE", "dog"]])
    assert list(tok.word_counts.items()) == [("the", 2), ("cat", 1), ("dog", 1)]
    tok = T.Tokenizer(lower=False)
    tok.fit_on_texts([["The", "cat"], ["THE", "the"]])
    assert list(tok.word_counts) == ["The", "cat", "THE", "the"]
    tok = T.Tokenizer(char_level=True)
    tok.fit_on_texts(["Aa b."])
    assert list(tok.word_counts.items()) == [("a", 2), (" ", 1), ("b", 1), (".", 1)]
    assert tok.texts_to_sequences(["ba!"]) == [[3, 1]]
    tok = T.Tokenizer(char_level=True, lower=False)
    tok.fit_on_texts(["Aa"])
    assert tok.word_index == {"A": 1, "a": 2}


def test_texts_to_sequences_num_words_and_oov_token():
    train = ["this text has only known words this text"]
    test = ["This text has some unknown words"]
    tok = T.Tokenizer()
    tok.fit_on_texts(train)
    # this 1, text 2, has 3, only 4, known 5, words 6
    assert tok.texts_to_sequences(test) == [[1, 2, 3, 6]]
    assert tok.sequences_to_texts([[1, 2, 3, 6]]) == ["this text has words"]
    tok = T.Tokenizer(num_words=3)
    tok.fit_on_texts(train)
    assert tok.texts_to_sequences(test) == [[1, 2]]
    assert tok.sequences_to_texts([[1, 2, 3, 6, 0, 40]]) == ["this text"]
    tok = T.Tokenizer(oov_token="<unk>")
    tok.fit_on_texts(train)
    assert tok.word_index["<unk>"] == 1 and tok.word_index["this"] == 2
    assert tok.texts_to_sequences(test) == [[2, 3, 4, 1, 1, 7]]
    assert tok.sequences_to_texts([[2, 3, 4, 1, 1, 7]]) == ["this text has <unk> <unk> words"]
    tok = T.Tokenizer(num_words=3, oov_token="<unk>")
    tok.fit_on_texts(train)
    seq = tok.texts_to_sequences(test)
    assert seq == [[2, 1, 1, 1, 1, 1]]
    assert tok.sequences_to_texts(seq + [[0, 3, 99]]) == ["this <unk> <unk> <unk> <unk> <unk>", "<unk> <unk> <unk>"]
    assert list(tok.texts_to_sequences_generator(test)) == seq
    assert list(tok.sequences_to_texts_generator(seq)) == tok.sequences_to_texts(seq)


def test_an_oov_token_that_also_occurs_in_the_texts_gets_the_keras_indices():
    tok = T.Tokenizer(oov_token="unk")
    tok.fit_on_texts(["a unk a"])
    # Keras lists the token first and again by its count: the later place wins.
    assert tok.word_index == {"unk": 3, "a": 2}
    assert tok.index_word == {3: "unk", 2: "a"}
    assert tok.texts_to_sequences(["a zebra unk"]) == [[2, 3, 3]]


def test_fitting_again_adds_to_the_counts_and_takes_generators():
    tok = T.Tokenizer()
    tok.fit_on_texts(t for t in ["The cat sat.", "The dog sat."])
    tok.fit_on_texts([["The", "cat", "is", "sitting"], ["The", "dog", "is", "standing"]])
    assert tok.document_count == 4
    assert tok.word_counts["the"] == 4 and tok.word_docs["is"] == 2
    assert tok.word_index["the"] == 1
    assert tok.texts_to_matrix([["the", "cat"]]).shape == (1, len(tok.word_index) + 1)


def test_unicode_words():
    tok = T.Tokenizer(num_words=5)
    tok.fit_on_texts(["ali veli kırk dokuz elli", "ali veli kırk dokuz elli veli kırk dokuz"])
    assert len(tok.word_counts) == 5
    assert tok.word_index == {"veli": 1, "kırk": 2, "dokuz": 3, "ali": 4, "elli": 5}
    assert tok.texts_to_sequences(["elli kırk ali"]) == [[2, 4]]


def test_matrices_by_hand():
    tok = T.Tokenizer(num_words=4)
    tok.fit_on_texts(["a a b", "a c", "b d d d"])
    # a 3, d 3, b 2, c 1 -> a 1, d 2, b 3, c 4 (cut by num_words=4)
    seqs = [[1, 1, 3], [1, 4], [], [2, 2, 9]]
    np.testing.assert_array_equal(tok.sequences_to_matrix(seqs, "binary"),
                                  [[0, 1, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(tok.sequences_to_matrix(seqs, "count"),
                                  [[0, 2, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0]])
    np.testing.assert_allclose(tok.sequences_to_matrix(seqs, "freq"),
                               [[0, 2 / 3, 0, 1 / 3], [0, 1 / 2, 0, 0], [0, 0, 0, 0], [0, 0, 2 / 3, 0]])
    docs = {1: 2, 2: 1, 3: 2}   # texts holding a, d, b

    def tfidf(c, j):
        return (1 + np.log(c)) * np.log(1 + 3 / (1 + docs.get(j, 0)))
    np.testing.assert_allclose(tok.sequences_to_matrix(seqs, "tfidf"),
                               [[0, tfidf(2, 1), 0, tfidf(1, 3)], [0, tfidf(1, 1), 0, 0], [0, 0, 0, 0],
                                [0, 0, tfidf(2, 2), 0]])
    assert tok.sequences_to_matrix(seqs).dtype == np.float64
    np.testing.assert_array_equal(tok.texts_to_matrix(["a a b d"], mode="count"), [[0, 2, 1, 1]])
    tok = T.Tokenizer()
    tok.fit_on_texts(["a b"])
    assert tok.texts_to_matrix(["b"]).tolist() == [[0, 0, 1]]


def test_fit_on_sequences_feeds_tfidf_without_texts():
    tok = T.Tokenizer(num_words=4)
    tok.fit_on_sequences([[1, 1, 2], [2, 3]])
    assert tok.document_count == 2 and dict(tok.index_docs) == {1: 1, 2: 2, 3: 1}
    m = tok.sequences_to_matrix([[1, 2]], mode="tfidf")
    np.testing.assert_allclose(m, [[0, np.log(1 + 2 / 2), np.log(1 + 2 / 3), 0]])


# ---------------------------------------------------------------- Tokenizer against Keras 3

KWARGS = [{}, {"num_words": 5}, {"oov_token": "unk"}, {"oov_token": "<unk>", "num_words": 4},
          {"char_level": True}, {"char_level": True, "num_words": 6, "oov_token": "#"}, {"lower": False},
          {"filters": "", "split": ","}]


@pytest.mark.parametrize("kwargs", KWARGS)
def test_tokenizer_matches_keras(keras_text, kwargs):
    ours, theirs = T.Tokenizer(**kwargs), keras_text.Tokenizer(**kwargs)
    for tok in (ours, theirs):
        tok.fit_on_texts(TEXTS)
        tok.fit_on_texts(TEXTS[:2])
        tok.fit_on_sequences([[1, 2], [3, 3]])
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert ours.word_index == theirs.word_index and ours.index_word == theirs.index_word
    assert dict(ours.word_docs) == dict(theirs.word_docs) and dict(ours.index_docs) == dict(theirs.index_docs)
    assert ours.document_count == theirs.document_count
    queries = TEXTS + ["zebra cat, the", ["Zebra", "cat"]]
    seqs = ours.texts_to_sequences(queries)
    assert seqs == theirs.texts_to_sequences(queries)
    extra = seqs + [[0, 1, 2, 99], []]
    assert ours.sequences_to_texts(extra) == theirs.sequences_to_texts(extra)
    for mode in T.MODES:
        np.testing.assert_allclose(ours.texts_to_matrix(queries, mode), theirs.texts_to_matrix(queries, mode))
        np.testing.assert_allclose(ours.sequences_to_matrix(extra, mode), theirs.sequences_to_matrix(extra, mode))
    assert ours.get_config() == theirs.get_config()
    # each reads the other's JSON
    mine_read_by_keras = keras_text.tokenizer_from_json(ours.to_json())
    theirs_read_by_me = T.tokenizer_from_json(theirs.to_json())
    assert mine_read_by_keras.texts_to_sequences(queries) == seqs
    assert theirs_read_by_me.texts_to_sequences(queries) == seqs


# ---------------------------------------------------------------- serialisation

def _state(tok):
    return (tok.get_config(), list(tok.word_counts.items()), dict(tok.word_docs), dict(tok.index_docs),
            tok.word_index, tok.index_word)


def test_to_json_round_trip_unfitted_and_fitted():
    tok = T.Tokenizer(num_words=100)
    back = T.tokenizer_from_json(tok.to_json())
    assert _state(back) == _state(tok)
    tok = T.Tokenizer(num_words=7, oov_token="<unk>", lower=False, split="|", filters="!")
    tok.fit_on_texts(["A|b|b!|c", "b|d"])
    tok.fit_on_sequences(tok.texts_to_sequences(["A|b|b!|c"]))
    back = T.tokenizer_from_json(tok.to_json(indent=2))
    assert _state(back) == _state(tok)
    assert json.loads(tok.to_json())["class_name"] == "Tokenizer"
    assert back.texts_to_sequences(["b|zz|A"]) == tok.texts_to_sequences(["b|zz|A"])
    np.testing.assert_array_equal(back.texts_to_matrix(["b|A"], "tfidf"), tok.texts_to_matrix(["b|A"], "tfidf"))
    # the loaded Tokenizer keeps fitting (its count tables still start words at 0)
    back.fit_on_texts(["e|e"])
    tok.fit_on_texts(["e|e"])
    assert _state(back) == _state(tok)


def test_tokenizer_pickles():
    tok = T.Tokenizer(num_words=10, oov_token="<unk>")
    tok.fit_on_texts(TEXTS)
    back = pickle.loads(pickle.dumps(tok))
    assert _state(back) == _state(tok)
    assert back.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)


@pytest.mark.parametrize("bad", ["not json", "[1, 2]", '{"class_name": "Tokenizer"}', None])
def test_tokenizer_from_json_refuses_what_to_json_did_not_write(bad):
    with pytest.raises(ValueError, match="tokenizer_from_json: `json_string` must be the JSON"):
        T.tokenizer_from_json(bad)
    with pytest.raises(ValueError, match=r"lacks \['word_counts'"):
        T.tokenizer_from_json('{"config": {"num_words": 3}}')


# ---------------------------------------------------------------- bad arguments

def test_nb_words_is_the_old_name_of_num_words():
    with pytest.warns(UserWarning, match="`nb_words`.*`num_words`"):
        tok = T.Tokenizer(nb_words=4)
    assert tok.num_words == 4


def test_tokenizer_refuses_bad_arguments():
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['words'\]"):
        T.Tokenizer(words=3)
    for bad in (0, -1, 2.0, True, "10"):
        with pytest.raises(ValueError, match=f"`num_words` must be a positive int or None, got {bad!r}"):
            T.Tokenizer(num_words=bad)
    with pytest.raises(ValueError, match="`split` must be a non-empty string, got ''"):
        T.Tokenizer(split="")
    with pytest.raises(ValueError, match="`document_count` must be an int >= 0, got -1"):
        T.Tokenizer(document_count=-1)
    tok = T.Tokenizer(num_words=4)
    for method in (tok.fit_on_texts, tok.texts_to_sequences, tok.texts_to_matrix):
        with pytest.raises(TypeError, match="`texts` must be a list of texts.*one string"):
            method("just one text")
    with pytest.raises(ValueError, match=r"`mode` must be one of \('binary', 'count', 'tfidf', 'freq'\), got 'bag'"):
        tok.sequences_to_matrix([[1]], mode="bag")
    with pytest.raises(ValueError, match="`mode`.*got 'bag'"):
        tok.texts_to_matrix(["a"], mode="bag")
    with pytest.raises(ValueError, match="mode='tfidf' needs document counts"):
        tok.sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="give the Tokenizer `num_words`, or fit it"):
        T.Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(TypeError, match="`text` must be a string, got int"):
        tok.fit_on_texts([3])
    with pytest.raises(TypeError, match=r"Tokenizer\(char_level=True\): `text` must be a string"):
        T.Tokenizer(char_level=True).fit_on_texts([("a", "b")])


# ---------------------------------------------------------------- end to end

def test_tokenizer_pad_sequences_embedding_lstm_learn_a_word_task(seeded):
    from kerosene import layers as L
    from kerosene.models import Sequential
    from kerosene.optimizers import Adam
    rng = np.random.default_rng(0)
    good, bad, filler = ["great", "fine", "superb"], ["awful", "poor", "dire"], ["the", "film", "was", "plot", "a"]
    texts, labels = [], []
    for _ in range(160):
        label = int(rng.integers(2))
        words = list(rng.choice(filler, size=int(rng.integers(2, 6)))) + [rng.choice(good if label else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + "!")
        labels.append(label)
    tok = T.Tokenizer(num_words=20, oov_token="<unk>")
    tok.fit_on_texts(texts)
    x = S.pad_sequences(tok.texts_to_sequences(texts), maxlen=8)
    y = np.array(labels, dtype="float32")
    assert x.shape == (160, 8) and x.dtype == np.int32 and x.max() < 20

    model = Sequential([L.Embedding(20, 8, input_length=8), L.LSTM(8), L.Dense(1, activation="sigmoid")])
    model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    unseen = S.pad_sequences(tok.texts_to_sequences(["The plot was superb", "A dire film, zebra"]), maxlen=8)
    p = model.predict(unseen).ravel()
    assert p[0] > 0.5 > p[1]
