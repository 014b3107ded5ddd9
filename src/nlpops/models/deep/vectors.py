"""Word vectors through gensim: trained on the training split, or read from a pretrained file.

Supported files (``detect_format`` tells them apart from their first bytes and suffix):
word2vec binary (``.bin`` with a ``count dim`` header), word2vec text, GloVe text (no header),
fastText ``.vec`` (word2vec text) and fastText ``.bin`` (with its subword n-grams, so that
words missing from the file still get a vector). ``.gz`` files are read directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlpops.errors import DataError, ParameterError
from nlpops.models.deep.vocab import PAD_ID, Vocab

VECTOR_FORMATS = ("word2vec_bin", "word2vec_text", "glove", "fasttext_vec", "fasttext_bin")
TRAINED = ("word2vec", "fasttext")  # gensim models trained on the training split
FASTTEXT_MAGIC = 793712314  # first int32 of every fastText .bin file
FASTTEXT_BUCKET = 100_000  # n-gram rows of a trained FastText; gensim's 2M would cost ~800 MB


def detect_format(path: str | Path) -> str:
    """Guess the format of a vectors file from its first bytes (and ``.bin`` / ``.vec`` suffix).

    Args:
        path (str | Path): the vectors file.

    Returns:
        str: one of ``VECTOR_FORMATS``.
    """
    from gensim.utils import open as gensim_open  # smart_open: reads .gz transparently

    file = Path(path)
    with gensim_open(str(file), "rb") as handle:
        first_line = handle.readline(4096)
    if len(first_line) >= 4 and int.from_bytes(first_line[:4], "little") == FASTTEXT_MAGIC:
        return "fasttext_bin"
    parts = first_line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):  # a "count dim" header
        if ".bin" in file.suffixes:
            return "word2vec_bin"
        return "fasttext_vec" if ".vec" in file.suffixes else "word2vec_text"
    return "glove"


def load_vectors(path: str | Path, fmt: str | None = None) -> Any:
    """Read pretrained vectors as gensim ``KeyedVectors``.

    Args:
        path (str | Path): the vectors file.
        fmt (str | None): one of ``VECTOR_FORMATS``; None detects it.

    Returns:
        Any: ``KeyedVectors`` (``FastTextKeyedVectors`` for a fastText ``.bin``).

    Raises:
        FileNotFoundError: the file does not exist.
        ParameterError: unknown format; DataError: the file cannot be read in that format (path named).
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"word vectors file not found: {file}")
    if fmt is not None and fmt not in VECTOR_FORMATS:
        raise ParameterError(f"unknown vectors format {fmt!r}; known: {', '.join(VECTOR_FORMATS)}")
    try:
        fmt = fmt or detect_format(file)
        return _read(file, fmt)
    except Exception as err:  # gensim raises many types (struct, unicode, EOF, value) on bad files
        raise DataError(f"could not read word vectors from {file} as {fmt}: {err}") from err


def _read(file: Path, fmt: str) -> Any:
    from gensim.models import KeyedVectors
    from gensim.models.fasttext import load_facebook_vectors

    if fmt == "fasttext_bin":
        return load_facebook_vectors(str(file))
    binary = fmt == "word2vec_bin"
    kv = KeyedVectors.load_word2vec_format(str(file), binary=binary, no_header=fmt == "glove")
    if len(kv) == 0:
        raise DataError("no vectors in the file")
    return kv


def train_vectors(
    sentences: Sequence[list[str]],
    method: str,
    dim: int,
    window: int = 5,
    sg: int = 1,
    epochs: int = 5,
    min_count: int = 2,
    seed: int = 0,
) -> Any:
    """Train gensim ``Word2Vec`` or ``FastText`` on tokenised texts (one worker: reproducible).

    Args:
        sentences (Sequence[list[str]]): tokenised training texts.
        method (str): "word2vec" or "fasttext".
        dim (int): vector size.
        window (int): context window.
        sg (int): 1 = skip-gram, 0 = CBOW.
        epochs (int): passes over the texts.
        min_count (int): rarer words get no vector.
        seed (int): random seed.

    Returns:
        Any: the trained ``KeyedVectors``.
    """
    from gensim.models import FastText, Word2Vec

    common = {"vector_size": dim, "window": window, "sg": sg, "epochs": epochs, "min_count": min_count}
    common |= {"seed": seed, "workers": 1}  # several workers race: not reproducible
    if method == "word2vec":
        return Word2Vec(sentences=list(sentences), **common).wv
    if method == "fasttext":
        return FastText(sentences=list(sentences), bucket=FASTTEXT_BUCKET, **common).wv
    raise ParameterError(f"vectors method must be one of {TRAINED}, got {method!r}")


def _has_subwords(kv: Any) -> bool:
    return int(getattr(kv, "bucket", 0) or 0) > 0 and hasattr(kv, "vectors_ngrams")


def embedding_matrix(
    vocab: Vocab, kv: Any | None, dim: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The initial embedding table of ``vocab``: pretrained rows where ``kv`` has them.

    Words found in ``kv`` take its vector; with fastText n-grams, missing words are built from
    their subwords; the rest (UNK included) start random at the scale of the found vectors.

    Args:
        vocab (Vocab): the model's vocabulary.
        kv (Any | None): gensim ``KeyedVectors``; None gives a random table of width ``dim``.
        dim (int): width when ``kv`` is None (otherwise ``kv.vector_size``).
        seed (int): seed of the random rows.

    Returns:
        tuple[np.ndarray, np.ndarray, dict[str, float]]: the float32 table; a boolean mask of the
        rows with no pretrained vector (these are trained even when embeddings are frozen); and
        the coverage: ``vocab_coverage`` (share of words found as is), ``subword_coverage``
        (share built from n-grams) and ``token_coverage`` (share of training tokens covered).
    """
    rng = np.random.default_rng(seed)
    n_words = max(len(vocab) - 2, 1)
    if kv is None:
        table = rng.normal(0.0, 0.1, (len(vocab), dim)).astype(np.float32)
        table[PAD_ID] = 0.0
        return table, np.ones(len(vocab), dtype=bool), {}
    exact = np.asarray([i > 1 and kv.has_index_for(w) for i, w in enumerate(vocab.itos)], dtype=bool)
    scale = float(kv.vectors.std()) if len(kv) else 0.1
    table = rng.normal(0.0, scale, (len(vocab), kv.vector_size)).astype(np.float32)
    rows = np.flatnonzero(exact)
    table[rows] = kv.vectors[[kv.key_to_index[vocab.itos[i]] for i in rows]]
    subword = np.zeros(len(vocab), dtype=bool)
    if _has_subwords(kv):
        for i in np.flatnonzero(~exact)[2:]:  # skip PAD and UNK
            table[i] = kv.get_vector(vocab.itos[i])
            subword[i] = True
    table[PAD_ID] = 0.0
    counts = np.asarray(vocab.counts or [1] * len(vocab), dtype=float)
    counts[:2] = 0.0
    coverage = {
        "vocab_coverage": float(exact.sum() / n_words),
        "subword_coverage": float(subword.sum() / n_words),
        "token_coverage": float(counts[exact | subword].sum() / max(counts.sum(), 1.0)),
    }
    return table, ~(exact | subword), coverage
