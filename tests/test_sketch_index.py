"""Compiled hot-issue sketches (``triage/_sketch_index.pyx``): sketches made a chunk at a
time, the bytes ``hot_issues.sketch`` makes one at a time; the index of a batch file's
latest sketches by feature, the cosines ``hot_issues.cosines`` gives from the arrays, to
the last bit, as slots are filled and replaced; and the grouping of a file the same with
and without the index."""
import numpy as np
import pytest

from triage.batch import hot_groups
from triage import hot_issues
from triage.hot_issues import SKETCH_TERMS, cosines, sketch, sketches

sketch_index = pytest.importorskip("triage._sketch_index", reason="not built: tests/test_compiled.py says so")

SLOTS, N_FEATURES = 100, 400  # few features: many terms shared, long lists per feature


def random_sketch(generator, width, common=None):
    """A sketch as ``hot_issues.unpack`` gives one: distinct indices, then -1 padding;
    unit-length non-negative float32 weights (0 for padding). ``common``: indices to draw from."""
    pool = common if common is not None else np.arange(N_FEATURES)
    used = min(int(generator.integers(1, width + 1)), len(pool))
    indices = np.full(width, -1, np.int32)
    indices[:used] = generator.choice(pool, used, replace=False)
    values = np.where(indices >= 0, generator.random(width, dtype=np.float32), 0).astype(np.float32)
    values /= np.float32(np.sqrt((values ** 2).sum()))
    return indices, values.astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_sketches_of_a_chunk_are_those_made_one_at_a_time(seed):
    """Rows short and long (a sketch keeps 64 terms), values drawn from a few so that most
    rows tie at the cut, zeros of both signs and negative values, empty rows and rows with
    no sketch (None)."""
    generator = np.random.default_rng(seed)
    levels = np.array([-1.5, -0.1, 0.0, -0.0, 0.05, 0.1, 0.1000001, 0.3, 0.7, 2.5], np.float32)
    rows = []
    for number in range(400):
        length = int(generator.choice([0, 1, 7, 63, 64, 65, 200, 900])) if number % 5 else int(generator.integers(0, 400))
        pool = levels if number % 2 else generator.random(50, dtype=np.float32)
        rows.append(None if number % 17 == 0 else (generator.choice(N_FEATURES * 10, length).astype(np.int32),
                                                   generator.choice(pool, length).astype(np.float32)))
    expected = [None if row is None else sketch(*row) for row in rows]
    assert sketches(rows) == expected
    assert sum(row is not None and len(row[1]) > SKETCH_TERMS for row in rows) > 100  # many rows were cut


def test_sketches_of_other_types_or_none_are_made_one_at_a_time(monkeypatch):
    float64 = (np.arange(100, dtype=np.int32), np.linspace(1, 0, 100))  # chosen before float32, as sketch does
    assert sketches([float64, None]) == [sketch(*float64), None]
    assert sketches([None]) == [None] and sketches([]) == []
    monkeypatch.setattr(hot_issues, "_sketch_index", None)  # not built
    row = (np.arange(70, dtype=np.int32), np.ones(70, np.float32))
    assert sketches([row]) == [sketch(*row)]


@pytest.mark.parametrize("starts, message", [([0, 5, 3], "row 1 runs from 5 to 3"), ([0, 11], "row 0 runs from 0 to 11")])
def test_rows_outside_the_values_are_refused(starts, message):
    with pytest.raises(ValueError, match=message):
        sketch_index.strongest_terms(np.zeros(10, np.int32), np.ones(10, np.float32), np.array(starts, np.int64), 64)


@pytest.mark.parametrize("width", [64, 5, 13])  # the sketches'; below and not a multiple of NumPy's blocks
def test_the_index_gives_the_arrays_cosines_to_the_last_bit(width):
    generator = np.random.default_rng(width)
    index = sketch_index.SketchIndex(SLOTS, width, N_FEATURES)
    indices, values = np.full((SLOTS, width), -1, np.int32), np.zeros((SLOTS, width), np.float32)
    scratch = np.zeros(N_FEATURES + 1, np.float32)
    common = generator.choice(N_FEATURES, 60, replace=False)
    most = 0.0
    for step in range(600):  # each slot filled, then replaced five times over, in a ring and at random
        new = random_sketch(generator, width, common if step % 3 else None)
        found = index.cosines(*new)
        expected = cosines(*new, indices, values, scratch)
        assert found.dtype == np.float32 and found.tobytes() == expected.tobytes()
        most = max(most, float(expected.max()))
        slot = step % SLOTS if step % 4 else int(generator.integers(0, SLOTS))
        index.put(slot, *new)
        indices[slot], values[slot] = new
    assert most > 0.5  # the sketches drawn from common features did share terms


def test_an_empty_index_and_an_empty_sketch_give_zeros():
    index = sketch_index.SketchIndex(4, 8, 10)
    padding, zeros = np.full(8, -1, np.int32), np.zeros(8, np.float32)
    assert index.cosines(padding, zeros).tolist() == [0.0] * 4
    index.put(2, np.array([3, 1, -1, -1, -1, -1, -1, -1], np.int32), np.array([0.6, 0.8, 0, 0, 0, 0, 0, 0], np.float32))
    assert index.cosines(padding, zeros).tolist() == [0.0] * 4
    index.put(2, padding, zeros)  # the slot's old terms leave the index with it
    assert index.cosines(np.array([3, 1, -1, -1, -1, -1, -1, -1], np.int32), np.ones(8, np.float32)).tolist() == [0.0] * 4


@pytest.mark.parametrize("indices, slot, message", [
    (np.array([1, 10, -1, -1], np.int32), 0, "sketch index 10 is beyond the model's 10 features"),
    (np.array([1, -2, -1, -1], np.int32), 0, "sketch index -2 is beyond"),
    (np.array([1, 2, -1], np.int32), 0, "a sketch has 4 terms, not 3"),
    (np.array([1, 2, -1, -1], np.int32), 4, "slot 4 is not among the 4"),
])
def test_a_sketch_that_does_not_fit_the_index_is_refused(indices, slot, message):
    index = sketch_index.SketchIndex(4, 4, 10)
    with pytest.raises(ValueError, match=message):
        index.put(slot, indices, np.ones(len(indices), np.float32))
    if slot == 0:
        with pytest.raises(ValueError, match=message):
            index.cosines(indices, np.ones(len(indices), np.float32))


def test_a_files_groups_are_the_same_without_the_index(small_model, tmp_path, monkeypatch):
    """Grouping a stream of rows with and without the compiled index (``hot_groups._Recent``)."""
    generator = np.random.default_rng(5)
    n_features = small_model.featuriser_.body_columns
    settings = {"hot_issue_window_days": 7, "hot_issue_similarity": 0.3}
    entries = []
    for row in range(1, 1501):
        indices, values = random_sketch(generator, hot_groups.SKETCH_TERMS, np.arange(0, n_features, n_features // 90))
        blob = indices.astype("<i4").tobytes() + values.astype("<f2").tobytes()
        entries.append(hot_groups.Entry(row, f"类别{row % 3}", blob, 1.7e9 + 3600.0 * row, row % 40))
    groups = []
    for built in (True, False):
        if not built:
            monkeypatch.setattr(hot_groups, "_sketch_index", None)
        grouping = hot_groups.HotGroups(n_features, settings, tmp_path / f"groups-{built}")
        for start in range(0, len(entries), 500):
            grouping.add(500, entries[start:start + 500])
        groups.append((list(grouping.first_rows), list(grouping.sizes), list(grouping.last_rows)))
        grouping.remove()
    assert groups[0] == groups[1] and len(groups[0][0]) > 20
