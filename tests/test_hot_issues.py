"""Hot issues (多人反映): sketches, grouping of other callers' cases on one matter, the
group listing, and the urgency raise for a large group."""
import numpy as np
import orjson
import pytest

from triage.hot_issues import SKETCH_TERMS, cosines, similarities, sketch, strongest, unpack

MATTER = ["解放路那家饭店油烟直排，熏得我们整栋楼不敢开窗", "解放路饭店的油烟直排到居民楼，家里不敢开窗",
          "解放路有饭店油烟直排，整栋楼都熏得不敢开窗", "解放路饭店油烟直排熏人，楼上住户不敢开窗"]
OTHER = "老板拖欠工资三个月不给，过年回不了家"


def sketches_of(model, texts):
    features = model.featuriser_.wording(texts)
    return [sketch(features[row].indices, features[row].data) for row in range(len(texts))], features


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 500])
def test_strongest_is_a_stable_descending_sort(size):
    """The partition shortcut keeps exactly what a stable sort keeps, ties at the cut included."""
    generator = np.random.default_rng(size)
    for tied in (True, False):
        values = (generator.choice(np.float32([0.01, 0.02, 0.05]), size) if tied
                  else generator.random(size, dtype=np.float32))
        assert np.array_equal(strongest(values, SKETCH_TERMS), np.argsort(-values, kind="stable")[:SKETCH_TERMS])


def test_sketch_cosine_follows_the_full_cosine(small_model):
    found, features = sketches_of(small_model, MATTER + [OTHER])
    assert all(len(blob) == SKETCH_TERMS * 6 for blob in found)
    full = (features @ features.T).toarray()
    approx = np.array([similarities(blob, found, features.shape[1]) for blob in found])
    assert np.allclose(np.diag(approx), 1.0, atol=1e-2)
    assert approx[0, 1] > 0.4 and approx[0, 4] < 0.2
    assert np.abs(approx - full).max() < 0.1  # short texts: the sketch keeps nearly every feature



def test_one_sketch_unpacked_against_rows_equals_the_many_sketch_path(small_model):
    """Batch grouping unpacks one sketch at a time (``unpack``, ``cosines`` with a kept
    scratch row); the service compares many at once (``similarities``): the same numbers."""
    found, features = sketches_of(small_model, MATTER + [OTHER])
    rows = [unpack(blob) for blob in found]
    indices, values = np.stack([row[0] for row in rows]), np.stack([row[1] for row in rows])
    scratch = np.zeros(features.shape[1] + 1, dtype=np.float32)
    for blob in found:
        assert np.array_equal(cosines(*unpack(blob), indices, values, scratch),
                              similarities(blob, found, features.shape[1]))
        assert not scratch.any()  # zero again for the next row

def triage(client, auth, text, phone, **extra):
    answer = client.post("/v1/triage", json={"text": text, "caller": {"phone": phone}, **extra}, headers=auth)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_other_callers_on_one_matter_form_a_group(client, auth):
    first = triage(client, auth, MATTER[0], "13800000001")
    assert first["hot_issue"]["is_hot"] is False and first["hot_issue"]["size"] == 1
    second = triage(client, auth, MATTER[1], "13800000002")
    assert second["hot_issue"]["is_hot"] and second["hot_issue"]["group_id"] == first["case_id"]
    assert second["hot_issue"]["size"] == 2 and "多人反映" in second["hot_issue"]["reasons"][0]
    third = triage(client, auth, MATTER[2], "13800000003")
    assert third["hot_issue"]["group_id"] == first["case_id"] and third["hot_issue"]["size"] == 3
    assert third["hot_issue"]["first_case"]["case_id"] == first["case_id"]

    again = triage(client, auth, MATTER[3], "13800000001")  # the first caller again: a repeat, not a new voice
    assert again["repeat"]["is_repeat"] and again["hot_issue"]["matched_case"] != first["case_id"]
    unrelated = triage(client, auth, OTHER, "13800000004")
    assert unrelated["hot_issue"]["is_hot"] is False

    groups = client.get("/v1/hot-issues", headers=auth).json["groups"]
    assert [(group["group_id"], group["size"]) for group in groups] == [(first["case_id"], 4)]
    assert groups[0]["category"] == first["category"]["label"] and groups[0]["open"] == 4
    assert client.get(f"/v1/cases/{third['case_id']}", headers=auth).json["hot_group"] == first["case_id"]
    assert client.get("/v1/hot-issues?min_size=5", headers=auth).json["groups"] == []
    assert client.get("/v1/hot-issues?size=5", headers=auth).status_code == 400


def test_a_large_group_raises_a_routine_case(small_model_dir, tmp_path, auth):
    from service import create_app

    from conftest import API_TOKEN

    app = create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'h.db'}",
                      "api_tokens": (API_TOKEN,), "caller_secret": "s", "hot_issue_urgent_size": 3,
                      "QUIET_ACCESS_LOG": True})
    client = app.test_client()
    answers = [triage(client, auth, text, f"1390000000{number}") for number, text in enumerate(MATTER[:3])]
    assert [answer["urgency"]["label"] for answer in answers[:2]] == ["一般", "一般"]
    assert answers[2]["urgency"]["label"] == "紧急" and answers[2]["urgency"]["source"] == "hot_issue"
    assert answers[2]["queue"]["urgency"] == "紧急"
    assert any("多人反映" in line for line in answers[2]["explanation"])


@pytest.mark.parametrize("window, expected", [(7, True), (1, False)])
def test_only_cases_inside_the_window_are_compared(small_model_dir, tmp_path, auth, window, expected):
    from service import create_app

    from conftest import API_TOKEN

    app = create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'w.db'}",
                      "api_tokens": (API_TOKEN,), "caller_secret": "s", "hot_issue_window_days": window,
                      "QUIET_ACCESS_LOG": True})
    client = app.test_client()
    triage(client, auth, MATTER[0], "13700000001", received_at="2026-11-18T09:00:00+08:00")
    later = triage(client, auth, MATTER[1], "13700000002", received_at="2026-11-21T09:00:00+08:00")
    assert later["hot_issue"]["is_hot"] is expected


def _grouped_one_at_a_time(entries, n_features, settings):
    """The grouping rule stated plainly, one row at a time: each row against the latest
    ``CANDIDATES`` rows of its category, held in ring slots (row j of a category in slot
    j mod CANDIDATES); other callers only, within the window; the first most similar slot
    at or above the threshold names the group."""
    from collections import defaultdict

    from triage.hot_issues import CANDIDATES

    window, threshold = settings["hot_issue_window_days"] * 86400.0, settings["hot_issue_similarity"]
    slots, added, groups = defaultdict(lambda: [None] * CANDIDATES), defaultdict(int), {}
    for found in entries:
        ring = slots[found.category]
        best, best_score = None, -np.inf
        for held in ring:
            if held is None:
                continue
            score = similarities(found.sketch, [held.sketch], n_features)[0]
            if found.caller and held.caller and found.caller == held.caller:
                score = np.float32(-1.0)
            if not np.isnan(found.moment) and not np.isnan(held.moment) and abs(held.moment - found.moment) > window:
                score = np.float32(-1.0)
            if score > best_score:
                best, best_score = held, score
        if best is not None and best_score >= threshold:
            groups[found.row] = groups.get(best.row, best.row)
            groups.setdefault(best.row, best.row)
        ring[added[found.category] % CANDIDATES] = found
        added[found.category] += 1
    return groups


@pytest.mark.parametrize("seed", range(3))
def test_batch_grouping_follows_the_rule_stated_plainly(seed, tmp_path):
    from triage.batch.hot_groups import Entry, HotGroups

    generator = np.random.default_rng(seed)
    n_features, settings = 40, {"hot_issue_window_days": 7, "hot_issue_similarity": 0.5}
    entries = []
    for row in range(1, 700):  # several hundred rows in two categories: the ring of 100 wraps
        keep = generator.choice(n_features, 6, replace=False)
        weights = generator.random(6).astype(np.float32)
        entries.append(Entry(row, str(generator.integers(2)), sketch(keep, weights),
                             float(generator.integers(0, 30 * 86400)) if generator.random() < 0.7 else np.nan,
                             int(generator.integers(0, 6))))
    hot = HotGroups(n_features, settings, tmp_path / "out.csv.groups")
    for start in range(0, 720, 120):  # chunks of 120 rows; rows 700-719 hold no entry (errors, say)
        hot.add(120, [found for found in entries if start < found.row <= start + 120])
    lines = [orjson.dumps({"row": row, "id": f"R{row}", "category": "c", "text": "t"}) + b"\n" for row in range(1, 721)]
    blocks = [lines[start:start + 250] for start in range(0, 720, 250)]  # blocks unlike the chunks
    labelled = list(hot.label(iter(blocks), hot.biggest(3)))
    assert [block for block, _ in labelled] == blocks  # the lines handed on as they were
    columns = {start + index + 1: found for start, (_, hot_columns) in zip(range(0, 720, 250), labelled)
               for index, found in hot_columns.items()}
    expected = _grouped_one_at_a_time(entries, n_features, settings)
    assert {row: int(name[1:]) for row, (name, _) in columns.items()} == expected
    sizes = {first: list(expected.values()).count(first) for first in set(expected.values())}
    assert all(size == sizes[expected[row]] for row, (_, size) in columns.items())
    biggest = hot.biggest(3)  # for the report: the largest groups and their first rows
    assert [sizes[int(hot.shown[group]["id"][1:])] for group in biggest] == sorted(sizes.values(), reverse=True)[:3]
    assert len(expected) > 50  # the rule was exercised: many rows joined groups
    hot.remove()
    assert not (tmp_path / "out.csv.groups").exists()
