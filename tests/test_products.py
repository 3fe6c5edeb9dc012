"""The product of featurised rows and the heads' weights (``features.Rows.__matmul__``): the
compiled loop (``triage/_products.pyx``) gives SciPy's result to the last bit, and every
other case goes to SciPy."""
import csv

import numpy as np
import pytest
import scipy.sparse as sp

from triage import features
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
