"""The fast TF-IDF vectorizers return exactly scikit-learn's matrix."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from nlpops.models import fast_tfidf
from nlpops.models.fast_tfidf import WHITESPACE_TOKENS, SplitWordTfidf, WordCachedCharTfidf

TRAIN = [
    "the flight was late again !",
    "love the crew :) so nice",
    "lost my bag , never again",
    "a b c d",
    "café crème à l'aéroport",
    "late late late flight",
]
NEW = [
    "the crew lost a bag",
    "",
    "   ",
    "unseenword zzz",
    "tabs\tand\nnewlines  and   spaces",
    "I",
    "late late",
    "crème brûlée",
]


def _pair(**params: object) -> tuple[TfidfVectorizer, WordCachedCharTfidf]:
    base = {"analyzer": "char_wb", "lowercase": False, "ngram_range": (2, 5), "dtype": np.float32}
    base.update(params)
    return TfidfVectorizer(**base).fit(TRAIN), WordCachedCharTfidf(**base).fit(TRAIN)


def _word_pair(**params: object) -> tuple[TfidfVectorizer, SplitWordTfidf]:
    base = {"token_pattern": WHITESPACE_TOKENS, "lowercase": False, "ngram_range": (1, 3)}
    base.update(params)
    return TfidfVectorizer(**base).fit(TRAIN), SplitWordTfidf(**base).fit(TRAIN)


def _same(a: sparse.csr_matrix, b: sparse.csr_matrix) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 3)},
        {"sublinear_tf": True},
        {"binary": True, "norm": None},
        {"max_features": 20, "use_idf": False},
        {"min_df": 2},
        {"norm": "l1", "sublinear_tf": True},
    ],
)
def test_transform_equals_scikit_learn(params: dict[str, object]) -> None:
    reference, cached = _pair(**params)
    for texts in (NEW, TRAIN, NEW):  # the second pass over NEW is served from the cache
        _same(reference.transform(texts), cached.transform(texts))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ngram_range": (1, 1)},
        {"ngram_range": (2, 3)},
        {"sublinear_tf": True, "min_df": 2},
        {"binary": True},
    ],
)
def test_word_transform_equals_scikit_learn(params: dict[str, object]) -> None:
    reference, fast = _word_pair(**params)
    _same(reference.transform(NEW + TRAIN), fast.transform(NEW + TRAIN))


def test_word_settings_the_split_cannot_reproduce_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    reference, fast = _word_pair(lowercase=True, stop_words=["the"])
    monkeypatch.setattr(SplitWordTfidf, "_counts", None)  # the fast path would fail
    _same(reference.transform(["The LATE flight"]), fast.transform(["The LATE flight"]))


def test_cache_holds_each_word_once_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_tfidf, "CACHE_WORDS", 3)  # the memo takes its size when first used
    reference, cached = _pair()
    cached.transform(["late late flight", "late crew"])
    assert set(cached.__dict__["_word_cache"]) == {"late", "flight", "crew"}
    _same(reference.transform(["new words here"]), cached.transform(["new words here"]))
    assert set(cached.__dict__["_word_cache"]) == {"new", "words", "here"}


def test_pickle_drops_the_cache_and_still_matches() -> None:
    reference, cached = _pair()
    cached.transform(NEW)
    restored = pickle.loads(pickle.dumps(cached))
    assert "_word_cache" not in restored.__dict__
    _same(reference.transform(NEW), restored.transform(NEW))


def test_settings_the_cache_cannot_reproduce_fall_back() -> None:
    reference, cached = _pair(lowercase=True)
    _same(reference.transform(["LATE Flight"]), cached.transform(["LATE Flight"]))
    assert "_word_cache" not in cached.__dict__


def test_errors_match_scikit_learn() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        WordCachedCharTfidf(analyzer="char_wb", lowercase=False).transform(["x"])
    _, cached = _pair()
    with pytest.raises(ValueError, match="string object received"):
        cached.transform("one string")


def test_bounded_memo_computes_once_and_empties_when_full() -> None:
    from nlpops.memo import BoundedMemo

    calls: list[str] = []
    memo = BoundedMemo(lambda key: calls.append(key) or key.upper(), size=2)
    assert [memo["a"], memo["b"], memo["a"]] == ["A", "B", "A"]
    assert calls == ["a", "b"]
    assert memo["c"] == "C" and dict(memo) == {"c": "C"}


def test_the_shortcuts_can_be_turned_off_with_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NLPOPS_SPEED_SHORTCUTS=false`` takes scikit-learn's public paths, with the same probabilities."""
    from nlpops.models.classical import TfidfLogReg
    from nlpops.settings import get_settings

    texts = [f"{w} flight {i}" for i in range(30) for w in ("great", "awful")]
    labels = ["pos", "neg"] * 30
    model = TfidfLogReg(nb_scale=True).fit(texts, labels)
    fast = model.predict_proba(texts[:7])
    calls: list[int] = []
    vectorizer = type(model.features_.steps[1][1].transformer_list[0][1])
    original = vectorizer._counts
    monkeypatch.setattr(vectorizer, "_counts", lambda self, docs: calls.append(1) or original(self, docs))
    monkeypatch.setenv("NLPOPS_SPEED_SHORTCUTS", "false")
    get_settings.cache_clear()
    try:
        plain = model.predict_proba(texts[:7])
    finally:
        monkeypatch.delenv("NLPOPS_SPEED_SHORTCUTS")
        get_settings.cache_clear()
    assert calls == [] and np.allclose(plain, fast, atol=1e-6)  # summation order: ~1e-7 apart
    model.predict_proba(texts[:7])
    assert calls, "with the shortcuts on, the cached word indices are used"
