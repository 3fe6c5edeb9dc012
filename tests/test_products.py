"""The product of featurised rows and the heads' weights (``features.Rows.__matmul__``), and
of repeat judging's views (``repeat.crossing``): the compiled loops (``triage/_products.pyx``)
give SciPy's result to the last bit, and every other case goes to SciPy."""
import csv

import numpy as np
import pytest
import scipy.sparse as sp

from triage import features, repeat
from triage.features import Rows

built = pytest.mark.skipif(features._products is None, reason="not built: tests/test_compiled.py says so")


def random_rows(generator: np.random.Generator, n_rows: int, n_columns: int, index_type) -> Rows:
    """Canonical CSR rows of random float32 values, some rows empty."""
    matrix = sp.random(n_rows, n_columns, density=0.05, format="csr", dtype=np.float32, random_state=generator)
    kept = np.arange(n_rows) % 4 != 0  # every fourth row empty
    matrix = sp.csr_matrix(sp.diags(kept.astype(np.float32)) @ matrix)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return Rows(matrix.data, matrix.indices.astype(index_type), matrix.indptr.astype(index_type), matrix.shape)


@built
@pytest.mark.parametrize("index_type", [np.int32, np.int64])
def test_the_compiled_product_is_scipys_to_the_last_bit(index_type):
    generator = np.random.default_rng(7)
    rows = random_rows(generator, 41, 300, index_type)
    weights = np.asfortranarray(generator.standard_normal((23, 300)).astype(np.float32))  # as HeadStack.coef_
    compiled = rows @ weights.T
    expected = np.asarray(rows.matrix() @ weights.T)
    assert compiled.dtype == expected.dtype == np.float32 and compiled.shape == (41, 23)
    assert compiled.tobytes() == expected.tobytes()
    assert not compiled[::4].any() and compiled[1:4].any()  # empty rows score nothing; the others do


@built
def test_the_heads_scores_of_the_model_are_the_same_from_both_paths(small_model, small_corpus_path, monkeypatch):
    """Every head's scores of the seed corpus, in one list and one text at a time, with and
    without the compiled loop."""
    with open(small_corpus_path, encoding="utf-8") as file:
        corpus = [row["text"] for row in csv.DictReader(file)]
    stack = small_model._heads_at_once()
    weights = stack.coef_.astype(np.float32, order="F")  # as the shipped model holds them
    batches = [corpus] + [[text] for text in corpus[:20]]
    rows = [small_model.featuriser_.rows(texts) for texts in batches]
    for part in rows:
        part.data = part.data.astype(np.float32)
    compiled = [part @ weights.T for part in rows]
    monkeypatch.setattr(features, "_products", None)
    for part, fast in zip(rows, compiled):
        assert fast.tobytes() == (part @ weights.T).tobytes()
    assert compiled[0].shape == (len(corpus), len(stack.classes_)) and np.abs(compiled[0]).sum() > 0


def test_other_types_and_layouts_go_to_scipy():
    """float64 weights, or weights not in C order, are multiplied by SciPy (float64 results
    for float64 weights, as SciPy gives them)."""
    generator = np.random.default_rng(11)
    rows = random_rows(generator, 9, 50, np.int32)
    for dense in (generator.standard_normal((50, 6)), np.asfortranarray(generator.standard_normal((50, 6)), np.float32)):
        found = rows @ dense
        expected = np.asarray(rows.matrix() @ dense)
        assert found.dtype == expected.dtype and found.tobytes() == expected.tobytes()
    assert (rows @ np.zeros((50, 0), np.float32)).shape == (9, 0)


def random_views(generator: np.random.Generator, n_rows: int, n_columns: int,
                 topic_type=np.float64) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Two views of ``n_rows`` rows as ``repeat.views`` makes them: float32 rows with sorted
    indices, and rows of ``topic_type`` (float32 from the shipped model's weights) stored out
    of column order (as a SciPy product stores them), every fifth row empty in both."""
    wording = sp.random(n_rows, n_columns, density=0.2, format="csr", dtype=np.float32, random_state=generator)
    wording = sp.csr_matrix(sp.diags((np.arange(n_rows) % 5 != 0).astype(np.float32)) @ wording)
    wording.eliminate_zeros()
    wording.sort_indices()
    weights = (generator.random(n_columns) / 2).astype(topic_type)  # the smaller view: the one that counts
    topic = (wording @ sp.diags(weights)).tocsr()
    assert not topic.has_sorted_indices and topic.dtype == topic_type
    return wording, topic


@pytest.mark.skipif(repeat._products is None, reason="not built: tests/test_compiled.py says so")
@pytest.mark.parametrize("topic_type", [np.float32, np.float64])
def test_the_compiled_crossing_is_scipys_product_to_the_last_bit(topic_type):
    """``repeat.crossing`` compares only the rows asked for, but each value must be the one
    SciPy's product of the whole views gives, summed in row i's stored order and in the
    view's type (a sum in column order differs in the last bits on these values, and fails)."""
    generator = np.random.default_rng(5)
    wording, topic = random_views(generator, 60, 400, topic_type)
    crossed = repeat.crossing(wording, topic)
    assert isinstance(crossed, repeat._products.Crossing)
    for left, right in ((np.arange(60), np.arange(60)), (np.array([3, 0, 7, 7]), np.array([59, 5, 3])),
                        (np.arange(10, 12), np.arange(0))):
        found, expected = crossed(left, right), repeat.cross(wording, topic, left, right)
        assert found.dtype == expected.dtype == np.result_type(np.float32, topic_type) and found.shape == expected.shape
        assert found.tobytes() == expected.tobytes()
    whole = crossed(np.arange(60), np.arange(60))
    assert not whole[::5].any() and (whole[1:5, 1:5] > 0).all()  # empty rows share nothing; the others do
    in_column_order = topic.copy()
    in_column_order.sort_indices()
    assert not np.array_equal(repeat.cross(wording, in_column_order, np.arange(60), np.arange(60)), whole)


def test_views_of_other_types_or_with_a_column_twice_in_a_row_are_crossed_by_scipy():
    """int64 indices (a matrix too large for int32), or a row holding a column twice (no
    product makes one)."""
    generator = np.random.default_rng(6)
    wording, topic = random_views(generator, 12, 50)
    twice = wording.copy()
    twice.indices[twice.indptr[1] + 1] = twice.indices[twice.indptr[1]]  # row 1: its first column again
    wide = topic.copy()
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    for views in ((wording, wide), (twice, topic)):
        crossed = repeat.crossing(*views)
        assert crossed.func is repeat.cross
        assert crossed(np.arange(12), np.arange(3)).tobytes() == repeat.cross(*views, np.arange(12), np.arange(3)).tobytes()


@pytest.mark.skipif(repeat._products is None, reason="not built: tests/test_compiled.py says so")
def test_the_models_views_are_crossed_compiled_as_by_scipy(small_model, small_corpus_path, monkeypatch):
    with open(small_corpus_path, encoding="utf-8") as file:
        corpus = [row["text"] for row in csv.DictReader(file)][:300]
    views = repeat.views(small_model, corpus)
    every = np.arange(len(corpus))
    assert isinstance(repeat.crossing(*views), repeat._products.Crossing)
    compiled = repeat.crossing(*views)(every, every)
    monkeypatch.setattr(repeat, "_products", None)
    assert compiled.tobytes() == repeat.crossing(*views)(every, every).tobytes()
    assert compiled.tobytes() == repeat.similarities(small_model, corpus).tobytes()
