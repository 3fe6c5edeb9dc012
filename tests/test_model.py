import os

import pytest

from triage import InputError, TriageModel
from triage.errors import ModelError

# Table of text -> expected labels for the small fixture model; phrasings differ from
# the training rows.
CASES = [
    ("半夜工地还在施工噪音吵死人了", "城乡建设", "城市管理和综合执法局"),
    ("楼下饭店的油烟直排到我家窗户", "环境保护", "生态环境局"),
    ("包工头拖欠我们的工资快一年了", "劳动和社会保障", "人力资源和社会保障局"),
    ("学校强制收资料费还要买教辅书", "教育文体", "教育局"),
]


def test_a_centre_floor_holds_auto_answers_under_it_for_a_look(small_model, small_corpus_path):
    """Setting ``auto_min_confidence``: an ``auto`` department under the floor becomes
    ``suggest`` (so does the decision); labels, confidences and every other band stay."""
    from triage.datafiles import read_labelled

    texts = read_labelled([small_corpus_path]).texts[:300]
    plain = small_model.predict(texts)
    confident = sorted(result["department"]["confidence"] for result in plain
                       if result["status"] == "ok" and result["department"]["band"] == "auto")
    floor = confident[len(confident) // 2]
    assert confident[0] < floor  # some auto answers lie under it, some at or over it
    held = small_model.predict(texts, settings={"auto_min_confidence": {"department": floor}})
    for before, after in zip(plain, held):
        if before["status"] != "ok":
            continue
        was = before["department"]
        assert after["department"]["label"] == was["label"] and after["department"]["confidence"] == was["confidence"]
        expected = "suggest" if was["band"] == "auto" and was["confidence"] < floor else was["band"]
        assert after["department"]["band"] == expected
        assert after["category"]["band"] == before["category"]["band"]
        if expected != was["band"]:
            assert after["decision"] == ("suggest" if before["decision"] == "auto" else before["decision"])


@pytest.mark.parametrize("text, category, department", CASES)
def test_small_model_routes_table_cases(small_model, text, category, department):
    result = small_model.predict([text])[0]
    assert result["status"] == "ok"
    assert result["category"]["label"] == category
    assert result["department"]["label"] == department
    assert [d["label"] for d in result["department"]["top"]][0] == department


def test_result_shape(small_model):
    result = small_model.predict(["老板拖欠工资三个月，电话13812345678"])[0]
    assert 0 <= result["category"]["confidence"] <= 1
    assert result["category"]["subcategory"] == "工资福利"
    assert len(result["department"]["top"]) == 3
    confidences = [d["confidence"] for d in result["department"]["top"]]
    assert confidences == sorted(confidences, reverse=True)
    assert result["decision"] in {"auto", "suggest", "review"}
    assert result["request_type"]["label"] in {"投诉", "求助"}
    assert result["model_version"].startswith("m-")
    assert "13812345678" not in str(result) and result["personal_data"] == ["phone"]


def test_explanation_names_driving_words(small_model):
    result = small_model.predict(["饭店油烟直排，油烟味很大"])[0]
    terms = [term["term"] for term in result["category"]["explanation"]]
    assert any("油烟" in term for term in terms)
    assert all(term["weight"] > 0 for term in result["category"]["explanation"])
    assert result["explanation"][0].startswith("类别“环境保护”")


@pytest.mark.parametrize("name", ["category", "department", "request_type"])
def test_explanation_weights_are_the_linear_pushes(small_model, name):
    from triage.explain import display_terms

    result = small_model.predict(["饭店油烟直排，油烟味很大，晚上十点还在营业"])[0]
    head = small_model.heads_[name]
    label = list(head.classes_).index(result[name]["label"])
    row = small_model.featuriser_.transform([result["text"]]).toarray()[0]
    pushes = row * head.coef_[label]  # the push of each feature: its value times the label's weight
    names, shown, _ = display_terms(small_model.feature_names_)
    explained = result[name]["explanation"]
    assert explained and explained[0]["weight"] <= pushes[shown].max() + 1e-3  # none stronger was left out ...
    for term in explained:  # ... and each is a feature's push, under the word it lies in
        assert any(abs(pushes[i] - term["weight"]) < 1e-3 for i in range(len(names))
                   if names[i] in term["term"] and shown[i])


def test_warming_makes_before_any_fork_what_predicting_derives(small_model):
    """``warm`` predicts a test complaint, so that the heads as one, the terms explanations
    show and the opening block's columns exist before a process forks workers; a saved
    model carries none of them."""
    import pickle

    small_model.warm()
    fresh = pickle.loads(pickle.dumps(small_model))
    assert small_model._stack_cache is not None and small_model.featuriser_.counter_._opening_cache is not None
    counter = fresh.featuriser_.counter_
    assert getattr(fresh, "_stack_cache", None) is None and getattr(fresh, "_terms_cache", None) is None
    assert getattr(counter, "_opening_cache", None) is None
    answer = fresh.warm()
    assert answer["status"] == "ok" and answer["urgency"]["label"] == "特急"
    assert fresh._stack_cache[0] is fresh.heads_ and fresh._terms_cache is not None
    assert counter._opening_cache[0] is counter.vocabularies_


def test_the_heads_answered_as_one_are_each_head_alone(small_model):
    """One product and one softmax by blocks for every head (``HeadStack``) give each
    head's own probabilities, also for no rows, and each head's weights sit at its start."""
    import numpy as np

    from triage.heads import HeadStack

    stack = HeadStack(small_model.heads_)
    features = small_model.featuriser_.transform(["饭店油烟直排熏得不敢开窗", "老板拖欠工资三个月了", "", "楼道里燃气味很浓"])
    every = stack.predict_proba(features)
    together = stack.by_head(every)
    assert list(together) == list(small_model.heads_)
    rows = []
    for name, head in small_model.heads_.items():
        alone = head.predict_proba(features)
        assert np.allclose(together[name], alone, rtol=0, atol=1e-12)
        assert np.allclose(together[name].sum(axis=1), 1.0)
        start = stack.start(name)
        assert np.array_equal(stack.coef_[start:start + len(head.classes_)], head.coef_)
        rows.append(start + alone.argmax(axis=1))
    labels, confidences, bands = stack.answers(every, np.stack(rows))
    for number, head in enumerate(small_model.heads_.values()):  # each head's label, confidence and band
        alone = head.predict_proba(features)
        best = alone.argmax(axis=1)
        assert labels[number] == head.classes_[best].tolist()
        assert np.allclose(confidences[number], alone.max(axis=1), rtol=0, atol=1e-12)
        assert bands[number] == head.bands(alone.max(axis=1), best)
    assert {band for per_head in bands for band in per_head} >= {"auto", "review"}
    assert all(probabilities.shape == (0, len(small_model.heads_[name].classes_))
               for name, probabilities in stack.by_head(stack.predict_proba(features[:0])).items())


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled loop", "python loop"])
def test_explanations_show_words_of_the_text_never_pieces_across_two(compiled):
    """A character n-gram is shown as the token it lies in (出所 as 派出所); one that only
    spans two tokens (的时 in 下班的|时候) is left out; the same word from two features is
    listed once, with the stronger push; a number placeholder, a single character and a
    function word are not shown, not even as the word a fragment lies in (数字 in 〔数字〕)."""
    import numpy as np
    import scipy.sparse as sp

    from triage.explain import display_terms, top_terms

    names = np.asarray(["#的时", "#出所", "派出所", "#下班", "〔数字〕", "报警", "#数字", "去", "我们"], dtype=object)
    weights = np.asarray([[0.9, 0.8, 0.5, 0.4, 0.95, 0.3, 0.99, 0.98, 0.97]], dtype=np.float32)
    features = sp.csr_matrix(np.ones((1, len(names)), dtype=np.float32))
    words = ["\0".join(["我们", "下班", "的", "时候", "去", "派出所", "报警", "〔数字〕", "次"])]
    [[listed]] = top_terms(features, weights, np.zeros((1, 1), dtype=np.int64), display_terms(names), 5, words,
                           compiled=compiled)
    assert listed == [{"term": "派出所", "weight": 0.8}, {"term": "下班", "weight": 0.4},
                      {"term": "报警", "weight": 0.3}]


@pytest.mark.parametrize("rows, columns", [(7, 40), (5000, 300_000)])
def test_packed_ordering_equals_lexsort(rows, columns):
    """Explanations order pushes with one sort of packed keys; ties (equal pushes in a
    row) and wide tables must come out exactly as lexsort orders them."""
    import numpy as np

    from triage.explain import strongest_first

    generator = np.random.default_rng(rows)
    size = 20 * rows
    row_of = np.sort(generator.integers(0, rows, size))
    column_of = generator.integers(0, columns, size)
    pushes = generator.choice(np.float32([1e-7, 0.003, 0.25, 0.5, 1.75]), size)  # many ties
    pushes[::3] = generator.random(len(pushes[::3]), dtype=np.float32) + np.float32(1e-9)
    packed = strongest_first(row_of, column_of, pushes)
    plain = strongest_first(row_of, column_of, pushes, packed=False)
    for got, expected in zip(packed, plain):
        assert np.array_equal(got, expected)


def test_explanation_weights_round_as_python_does():
    """Explanation weights are rounded by NumPy all at once; for float32 pushes that must
    be exactly Python's round(push, 3), also next to every half-thousandth up to 8."""
    import numpy as np

    halves = np.float32((np.arange(8000) + 0.5) / 1000)
    pushes = np.concatenate([halves, np.nextafter(halves, np.float32(0)), np.nextafter(halves, np.float32(9)),
                             np.random.default_rng(0).random(200_000, dtype=np.float32) * 8])
    assert np.round(pushes.astype(np.float64), 3).tolist() == [round(push, 3) for push in pushes.tolist()]


def test_a_list_is_explained_as_each_text_alone(small_model):
    texts = [text for text, _, _ in CASES] + ["", "饭店油烟直排，油烟味很大"]
    together = small_model.predict(texts)
    assert together == [small_model.predict([text])[0] for text in texts]


@pytest.mark.parametrize("text, status", [
    ("", "unreadable"),
    ("this is not chinese at all", "unreadable"),
    ("学校强制收资料费".encode("utf-8").decode("latin-1"), "unreadable"),
])
def test_unreadable_text_gets_no_label(small_model, text, status):
    result = small_model.predict([text])[0]
    assert result["status"] == status
    assert result["category"] is None and result["decision"] == "review"
    assert result["flags"] and result["flags"][0]["reason"]


def test_too_short_text_is_predicted_but_reviewed(small_model):
    result = small_model.predict(["欠薪"])[0]
    assert result["status"] == "ok" and result["decision"] == "review"
    assert result["flags"][0]["code"] == "too_short"


def test_traditional_and_full_width_match_simplified(small_model):
    simplified, traditional = small_model.predict(["饭店油烟直排熏得不敢开窗", "飯店油煙直排燻得不敢開窗"])
    assert traditional["category"]["label"] == simplified["category"]["label"]
    assert traditional["category"]["confidence"] == pytest.approx(simplified["category"]["confidence"], abs=0.02)


@pytest.mark.parametrize("bad, message", [(None, "not a string"), (123, "not a string"), ("字" * 20001, "limit")])
def test_bad_text_is_refused_with_a_clear_error(small_model, bad, message):
    with pytest.raises(InputError, match=message):
        small_model.predict([bad])


def test_one_string_instead_of_a_list_is_refused_not_triaged_per_character(small_model):
    with pytest.raises(InputError, match=r"predict\(\[text\]\)"):
        small_model.predict("饭店油烟直排熏得不敢开窗")


@pytest.mark.parametrize("texts, labels, message", [
    (["你好"], {"category": ["城乡建设"]}, "nothing to learn from"),
    (["路灯坏了没人修", "路灯坏了三天", "路灯坏了一周", "老板拖欠工资"],
     {"category": ["城乡建设", "城乡建设", "城乡建设", "劳动和社会保障"]},
     r"the category column cannot train a head.*found \{'城乡建设': 3, '劳动和社会保障': 1\}"),
])
def test_too_little_to_learn_from_is_a_model_error_saying_so(texts, labels, message):
    with pytest.raises(ModelError, match=message):
        TriageModel().fit(texts, labels)


def test_fit_rejects_unknown_label_columns():
    with pytest.raises(ModelError, match="label columns"):
        TriageModel().fit(["文本"], {"colour": ["红"]})


def test_fit_refuses_a_calibration_pinned_to_no_head_before_featurising():
    with pytest.raises(ModelError, match="cannot pin the calibration of 'colour'"):
        TriageModel(calibration={"colour": "temperature"}).fit(["文本"], {"category": ["城乡建设"]})


def test_fit_reports_skipped_rows(small_corpus_path):
    from triage.datafiles import read_labelled

    data = read_labelled([small_corpus_path])
    labels = {"category": list(data.labels["category"])}
    labels["category"][0] = None
    labels["category"][1] = "只出现一次的类别"
    model = TriageModel().fit(data.texts, labels)
    assert model.training_report_["category"] == {"rows": len(data.texts) - 2, "empty_label": 1, "rare_label": 1}


EMERGENCIES = {  # written for these tests: who takes each kind over
    "公安局": ["有人拿着砍刀在街上追着人砍", "几个人冲进店里把老板按在地上打", "一个男的拿刀架在女人脖子上",
              "有人在公交车上抢包还捅了人一刀"],
    "卫生健康委员会": ["我爸突然倒在地上口吐白沫叫不醒", "孩子误吃了一瓶药现在嘴唇发紫", "老人在菜场晕倒了脸色发青",
                   "我妈吃饭的时候突然说不出话半边身子不能动"],
}


def _with_emergencies(small_corpus_path, responders: dict[str, list[str]], column: str = "department"):
    """The small corpus's texts and labels, with ``responders``' emergencies labelled 特急 and
    their unit in ``column``."""
    from triage.datafiles import read_labelled

    data = read_labelled([small_corpus_path])
    texts, labels = list(data.texts), {name: list(values) for name, values in data.labels.items()}
    for unit, emergencies in responders.items():
        for text in emergencies:
            texts.append(text)
            for name in labels:
                labels[name].append({"urgency": "特急", column: unit}.get(name))
    if column not in labels:
        labels[column] = [None] * (len(texts) - sum(map(len, responders.values()))) + \
            [unit for unit, emergencies in responders.items() for _ in emergencies]
    return texts, labels


def test_a_responder_head_learns_who_takes_over_the_emergencies(small_corpus_path):
    texts, labels = _with_emergencies(small_corpus_path, EMERGENCIES)
    model = TriageModel().fit(texts, labels)
    assert model.heads_["responder"].classes_.tolist() == ["公安局", "卫生健康委员会"]
    assert model.training_report_["responder"]["rows"] == 8  # the 特急 texts only
    assert "department" in model.heads_  # beside the department head, not in place of it


def test_a_responder_column_names_who_takes_over_where_the_department_does_not(small_corpus_path):
    # round 18 of the seed corpus: emergencies whose unit teaches the responder head alone
    texts, labels = _with_emergencies(small_corpus_path, EMERGENCIES, column="responder")
    model = TriageModel().fit(texts, labels)
    assert model.heads_["responder"].classes_.tolist() == ["公安局", "卫生健康委员会"]
    assert model.training_report_["department"]["empty_label"] == 8  # the department head never saw them


def test_a_responder_the_department_head_does_not_know_is_said_at_training(small_corpus_path, caplog):
    # the small corpus's departments: 城管, 生态环境局, 人社局, 教育局
    texts, labels = _with_emergencies(small_corpus_path, {"城市管理和综合执法局": EMERGENCIES["公安局"],
                                                          "消防救援支队": EMERGENCIES["卫生健康委员会"]}, column="responder")
    with caplog.at_level("WARNING", logger="triage.model"):
        TriageModel().fit(texts, labels)
    assert "responder labels that are no department label are never shown: 消防救援支队" in caplog.text


def test_one_unit_among_the_emergencies_makes_no_responder_head_and_no_error(small_corpus_path):
    texts, labels = _with_emergencies(small_corpus_path, {"公安局": EMERGENCIES["公安局"]})
    model = TriageModel().fit(texts, labels)
    assert "responder" not in model.heads_ and "department" in model.heads_
    assert model.predict(["有人拿着砍刀在街上追着人砍"])[0]["department"]["source"] in ("model", "rule")


def test_fast_inference_paths_give_the_stock_numbers(small_model):
    """predict skips scikit-learn's input checks; the arithmetic must stay the same: the
    features as stock TF-IDF block by block, the probabilities as the stock calibrator's."""
    import numpy as np

    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    texts = ["饭店油烟直排熏得不敢开窗", "老板拖欠工资三个月了", "", "路灯坏了", "路口红绿灯坏了三天，车辆乱行，请交警来看看"]
    featuriser = small_model.featuriser_
    stock = featuriser.transform(texts)
    # The stock TF-IDF of each block (idf from the training counts), each scaled to unit
    # length, the opening's weighed.
    counts = featuriser.counter_.transform(texts).toarray()
    tfidf = TfidfTransformer(sublinear_tf=True, norm=None)
    tfidf.idf_ = featuriser.idf_
    weighted = tfidf.transform(counts).toarray()
    start, end = featuriser.counter_.block_starts_[1:]
    assert 0 < start < end == stock.shape[1]
    expected = np.hstack([normalize(weighted[:, :start]), featuriser.opening_weight * normalize(weighted[:, start:])])
    assert np.allclose(stock.toarray(), expected, atol=1e-6)
    assert np.abs(stock[4, start:]).sum() > 0 and np.abs(stock[4, start:]).sum() < np.abs(stock[4, :start]).sum()
    assert np.allclose(featuriser.wording(texts).toarray(), expected[:, :start], atol=1e-6)
    for head in small_model.heads_.values():
        scores = head.decision_function(stock)
        assert np.allclose(head.predict_proba(stock), head.calibrator_.predict_proba(scores), atol=1e-6)


def test_key_table_finds_what_a_dict_finds_even_at_the_end_of_long_probe_chains():
    import numpy as np

    from triage.keytable import KeyTable

    random = np.random.default_rng(3)
    keys = np.unique(random.integers(-2**62, 2**62, 5000))
    table = KeyTable(keys)
    queries = np.concatenate([keys[::3], random.integers(-2**62, 2**62, 3000), keys[-40:]])
    expected = {int(key): index for index, key in enumerate(keys)}
    assert table.lookup(queries).tolist() == [expected.get(int(query), -1) for query in queries.tolist()]
    few = queries[:500]  # a single text's worth: answered by binary search instead
    assert table.lookup(few).tolist() == [expected.get(int(query), -1) for query in few.tolist()]
    unsorted = KeyTable(keys[::-1].copy())
    assert unsorted.lookup(keys[:3]).tolist() == [len(keys) - 1, len(keys) - 2, len(keys) - 3]
    crowded = KeyTable(np.arange(0, 2**40, 2**30, dtype=np.int64))  # 1,024 keys, many on one home slot
    assert crowded.lookup(crowded.keys).tolist() == list(range(len(crowded.keys)))


def test_counts_are_canonical_sparse_rows(small_model):
    import numpy as np
    import scipy.sparse as sp

    counter = small_model.featuriser_.counter_
    texts = ["饭店油烟直排，油烟油烟", "", "老板拖欠工资三个月了"]
    counts = counter.transform(texts)
    reference = counter.transform(texts[:1]).toarray()[0]
    assert counts.has_canonical_format and counts.dtype == np.float32 and counts.shape[0] == 3
    assert np.array_equal(counts[0].toarray()[0], reference) and counts[1].nnz == 0
    assert counts[0].toarray().max() >= 2  # 油烟 three times: duplicates are summed
    rebuilt = sp.coo_matrix(counts).tocsr()
    assert np.array_equal(rebuilt.toarray(), counts.toarray())


def test_two_label_heads_calibrate_like_the_stock_calibrator():
    import numpy as np
    import scipy.sparse as sp

    from triage.heads import LinearHead

    random = np.random.default_rng(0)
    features = sp.csr_matrix(random.random((60, 8)))
    labels = np.where(features[:, 0].toarray().ravel() > 0.5, "是", "否")
    head = LinearHead().fit(features, labels)
    expected = head.calibrator_.predict_proba(head.decision_function(features))
    assert np.allclose(head.predict_proba(features), expected, atol=1e-6)


def test_a_two_label_logistic_head_answers_as_one_with_others_as_its_calibrator_does():
    """A two-label regression calibrates by the logistic function of one logit: in the
    stack it is the softmax of ``(0, logit)``, beside a three-label temperature head."""
    import numpy as np
    import scipy.sparse as sp

    from triage.heads import HeadStack, LinearHead

    random = np.random.default_rng(0)
    features = sp.csr_matrix(random.random((60, 8)))
    two = LinearHead(calibration="logistic").fit(features, np.where(features[:, 0].toarray().ravel() > 0.5, "是", "否"))
    three = LinearHead(calibration="temperature").fit(
        features, np.array(["甲", "乙", "丙"])[features[:, :3].toarray().argmax(axis=1)])
    assert two.calibrator_.coef_.shape == (1, 2)  # one logit: the case the map turns into two
    stack = HeadStack({"two": two, "three": three})
    together = stack.by_head(stack.predict_proba(features))
    assert np.allclose(together["two"], two.calibrator_.predict_proba(two.decision_function(features)), rtol=0, atol=1e-12)
    assert np.allclose(together["three"], three.calibrator_.predict_proba(three.decision_function(features)),
                       rtol=0, atol=1e-12)


def test_temperature_calibration_keeps_the_svm_label_and_the_fast_path_agrees():
    import numpy as np
    import scipy.sparse as sp

    from triage.heads import LinearHead

    random = np.random.default_rng(1)
    features = sp.csr_matrix(random.random((90, 6)))
    labels = np.array(["甲", "乙", "丙"])[features[:, :3].toarray().argmax(axis=1)]
    head = LinearHead(calibration="temperature").fit(features, labels)
    probabilities = head.predict_proba(features)
    assert (probabilities.argmax(axis=1) == head.decision_function(features).argmax(axis=1)).all()
    assert np.allclose(probabilities, head.calibrator_.predict_proba(head.decision_function(features)), atol=1e-6)
    assert head.metrics_["calibration"] == "temperature"


def test_a_label_the_head_cannot_tell_apart_is_never_auto_though_an_easy_label_is():
    """One head-wide threshold is set by the easy, common label; bands per label keep a
    coin-flip label out of ``auto`` (the urgency head's 特急 guesses, 64 % precise out of
    fold, were 96 % ``auto`` under the head-wide threshold)."""
    import numpy as np
    import scipy.sparse as sp

    from triage.heads import LinearHead

    random = np.random.default_rng(3)
    features = random.random((1000, 6))
    easy = features[:, 0] > 0.15  # 85 % of rows, told apart by one feature
    features[easy, 0] += 3.0
    labels = np.where(easy, "甲", np.where(random.random(1000) < 0.5, "乙", "丙"))  # 乙 / 丙: noise
    head = LinearHead(calibration="temperature").fit(sp.csr_matrix(features), labels)
    probabilities = head.predict_proba(sp.csr_matrix(features))
    best, confidences = probabilities.argmax(axis=1), probabilities.max(axis=1)
    head_wide = np.where(confidences >= head.thresholds_["auto"], "auto",
                         np.where(confidences >= head.thresholds_["suggest"], "suggest", "review"))
    noise = head.classes_[best] != "甲"
    assert (head_wide[noise] == "auto").sum() >= 40  # what one threshold for the head lets through
    by_label = dict(zip(head.classes_, head.auto_thresholds()))
    assert by_label["甲"] <= 1.0 and by_label["乙"] > 1.0 and by_label["丙"] > 1.0
    bands = np.asarray(head.bands(confidences, best))
    assert (bands[~noise] == "auto").mean() > 0.9 and not (bands[noise] == "auto").any()
    assert head.metrics_["auto_precision"] >= 0.95
    del head.auto_thresholds_  # a model saved before bands per label: the head-wide thresholds
    assert (np.asarray(head.bands(confidences, best)) == head_wide).all()


@pytest.mark.parametrize("margin, chosen", [(1.0, "temperature"), (-1.0, "logistic")])
def test_logistic_calibration_must_win_by_the_margin(monkeypatch, margin, chosen):
    """``auto`` keeps the label-preserving temperature unless re-ranking raises out-of-fold
    macro-F1 by ``LOGISTIC_MARGIN`` (by plain "better" the seed corpus's category head
    flipped with each new situation, at a cost of 6 points on real text)."""
    import numpy as np
    import scipy.sparse as sp

    from triage import heads

    random = np.random.default_rng(4)
    features = sp.csr_matrix(random.random((150, 6)))
    labels = np.array(["甲", "乙", "丙"])[features[:, :3].toarray().argmax(axis=1)]
    monkeypatch.setattr(heads, "LOGISTIC_MARGIN", margin)
    assert heads.LinearHead().fit(features, labels).metrics_["calibration"] == chosen


def test_a_large_head_is_calibrated_on_one_held_out_fold(monkeypatch):
    import numpy as np
    import scipy.sparse as sp

    from triage import heads

    random = np.random.default_rng(2)
    features = sp.csr_matrix(random.random((300, 6)))
    labels = np.array(["甲", "乙", "丙"])[features[:, :3].toarray().argmax(axis=1)]
    monkeypatch.setattr(heads, "HOLD_OUT_ABOVE", 200)
    head = heads.LinearHead().fit(features, labels)
    assert head.metrics_["n"] == 300 and head.metrics_["calibration_rows"] == 100  # one fold of three
    assert head.metrics_["trained_rows"] == 200
    assert head.metrics_["out_of_fold_accuracy"] > 0.8 and (head.predict(features) == labels).mean() > 0.8
    monkeypatch.setattr(heads, "CALIBRATION_ROWS", 60)  # at most this many of the held-out third, drawn at random
    sampled = heads.LinearHead().fit(features, labels)
    assert sampled.metrics_["calibration_rows"] == 60 and sampled.metrics_["trained_rows"] == 200
    assert np.array_equal(sampled.coef_, head.coef_)  # the same SVM, calibrated on fewer of its held-out scores
    assert sampled.metrics_["out_of_fold_accuracy"] > 0.8
    monkeypatch.setattr(heads, "HOLD_OUT_ABOVE", 1000)
    assert heads.LinearHead().fit(features, labels).metrics_["calibration_rows"] == 300


def _two_levels(seed: int, rows: int):
    """Features and ``parent/child`` labels: columns 0-2 tell the parent (甲, 乙, 丙), 3-4 the
    child (子, 丑) under any parent; noise elsewhere."""
    import numpy as np
    import scipy.sparse as sp

    random = np.random.default_rng(seed)
    features = random.random((rows, 9))
    parent, child = features[:, :3].argmax(axis=1), features[:, 3:5].argmax(axis=1)
    features[np.arange(rows), parent] += 1.0
    features[np.arange(rows), 3 + child] += 1.0
    parents = np.array(["甲", "乙", "丙"], dtype=object)[parent]
    return sp.csr_matrix(features), parents + "/" + np.array(["子", "丑"], dtype=object)[child], parents


def test_a_nested_svm_tells_siblings_apart_reading_its_parents_rows_and_a_sample(monkeypatch):
    """Each parent's SVM reads that parent's rows and ``others`` times as many of the rest,
    not every row: what made the flat subcategory head the slowest fit of a retraining."""
    import numpy as np

    from triage import heads

    features, labels, parents = _two_levels(5, 600)
    read = []

    class Counting(heads.LinearSVC):
        def fit(self, x, y):
            read.append((len(y), int((y >= 0).sum())))  # rows, of which the parent's own
            return super().fit(x, y)

    monkeypatch.setattr(heads, "LinearSVC", Counting)
    svm = heads.NestedSVC(others=1.0).fit(features, labels)
    assert len(read) == 3 and all(rows == 2 * own for rows, own in read)
    assert sum(own for _, own in read) == 600
    assert (svm.predict(features, parents) == labels).mean() > 0.95
    assert list(svm.parents_) == ["丙", "丙", "乙", "乙", "甲", "甲"]  # the parent of each of classes_


@pytest.mark.parametrize("hold_out_above", [10_000, 300])
def test_a_nested_head_is_calibrated_and_judged_among_siblings(monkeypatch, hold_out_above):
    """Out-of-fold scores (scikit-learn hands the fold fits labels as numbers, the parents
    beside them) and the held-out fit of a large head both rank siblings only; the
    confidence among siblings is what the served model shows (``_subcategories``)."""
    import numpy as np

    from triage import heads

    monkeypatch.setattr(heads, "HOLD_OUT_ABOVE", hold_out_above)
    features, labels, parents = _two_levels(6, 600)
    head = heads.LinearHead(nested_by="/").fit(features, labels)
    assert head.metrics_["given_parent"] and head.metrics_["calibration"] == "temperature"
    assert head.metrics_["out_of_fold_accuracy"] > 0.9  # among siblings: a flat 6-way guess would not be
    probabilities = head.predict_proba(features)
    siblings = heads.parents_of(head.classes_, "/")[None, :] == parents[:, None]
    among = np.where(siblings, probabilities, 0.0)
    among /= among.sum(axis=1, keepdims=True)
    assert (head.classes_[among.argmax(axis=1)] == labels).mean() > 0.95
    assert np.isfinite(probabilities).all()


def test_heads_fitted_side_by_side_equal_heads_fitted_alone(small_corpus_path):
    import numpy as np

    from triage.datafiles import read_labelled
    from triage.heads import LinearHead

    data = read_labelled([small_corpus_path])
    model = TriageModel().fit(data.texts, data.labels)
    features = model.featuriser_.transform([model.predict([text])[0]["text"] for text in data.texts])
    alone = LinearHead().fit(features, np.asarray(data.labels["department"], dtype=object))
    assert np.array_equal(alone.coef_, model.heads_["department"].coef_)
    assert alone.thresholds_ == model.heads_["department"].thresholds_


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("hold_out_above", [10_000, 300])
def test_a_head_fitted_on_rows_and_columns_of_a_matrix_is_the_head_of_that_slice(monkeypatch, nested, hold_out_above):
    """How retraining's workers fit a head: on its rows and columns of the shared matrix,
    each SVM handed exactly the rows it reads, as the float64 liblinear takes without a copy."""
    import numpy as np

    from triage import heads

    monkeypatch.setattr(heads, "HOLD_OUT_ABOVE", hold_out_above)
    features, labels, _ = _two_levels(7, 700)
    features = features.astype(np.float32)
    rows = np.flatnonzero(np.arange(700) % 7 != 3)  # 600 rows, ascending
    labels = labels[rows] if nested else heads.parents_of(labels[rows], "/")
    handed = []

    class Recording(heads.LinearSVC):
        def fit(self, x, y):
            handed.append((x.dtype, x.shape))
            return super().fit(x, y)

    monkeypatch.setattr(heads, "LinearSVC", Recording)
    nested_by = "/" if nested else None
    taken = heads.LinearHead(nested_by=nested_by).fit(features, labels, rows=rows, columns=6)
    assert all(dtype == np.float64 and columns == 6 for dtype, (_, columns) in handed)
    if hold_out_above < len(rows) and not nested:
        assert [shape[0] for _, shape in handed] == [400]  # two folds of three, nothing more
    sliced = heads.LinearHead(nested_by=nested_by).fit(features[rows][:, :6], labels)
    assert np.array_equal(taken.coef_, sliced.coef_) and taken.thresholds_ == sliced.thresholds_
    assert taken.metrics_ == sliced.metrics_


def test_heads_are_fitted_as_many_at_a_time_as_memory_allows(small_corpus_path, monkeypatch, caplog):
    from triage import model as model_module
    from triage.heads import LinearHead
    from triage.model import HEAD_WORKER_BYTES, head_workers

    gigabyte = 1 << 30
    assert head_workers([10 * gigabyte, 8 * gigabyte, gigabyte], 30 * gigabyte, cores=2) == 2
    assert head_workers([10 * gigabyte, 8 * gigabyte, gigabyte], 20 * gigabyte, cores=2) == 1  # 18 GB > 80 % of 20
    assert head_workers([10 * gigabyte, 8 * gigabyte, gigabyte], 20 * gigabyte, cores=1) == 1
    assert head_workers([gigabyte] * 3, 100 * gigabyte, cores=8) == 3
    assert head_workers([gigabyte] * 3, None, cores=2) == 2  # the system does not say: one per core
    assert head_workers([40 * gigabyte], gigabyte, cores=2) == 1  # too large even alone: tried, one at a time
    assert head_workers([gigabyte, gigabyte], 2 * gigabyte + 2 * HEAD_WORKER_BYTES, cores=2) == 1
    flat, nested = LinearHead(), LinearHead(nested_by="/")
    assert nested.fit_memory(100_000, 10**7) > flat.fit_memory(100_000, 10**7) > flat.fit_memory(100_000, 10**6)

    from triage.datafiles import read_labelled

    data = read_labelled([small_corpus_path])
    started = []
    original = model_module.Parallel

    def recording(n_jobs, **options):
        started.append(n_jobs)
        return original(n_jobs=n_jobs, **options)

    monkeypatch.setattr(model_module, "Parallel", recording)
    monkeypatch.setattr(model_module, "available_memory", lambda: 1)
    with caplog.at_level("INFO", logger="triage.model"):
        one_at_a_time = TriageModel().fit(data.texts, data.labels)
    said = {record.levelname: record.getMessage() for record in caplog.records if "at a time" in record.getMessage()
            or "may not fit" in record.getMessage()}
    assert "5 heads, 1 at a time" in said["INFO"] and "fewer rows" in said["WARNING"]  # said before it runs out
    monkeypatch.setattr(model_module, "available_memory", lambda: None)
    side_by_side = TriageModel().fit(data.texts, data.labels)
    assert started == [1, min(5, os.cpu_count() or 1)]
    for name, head in one_at_a_time.heads_.items():
        assert (head.coef_ == side_by_side.heads_[name].coef_).all(), name


def test_retraining_removes_the_matrix_a_killed_retraining_left_and_its_own(small_corpus_path, tmp_path, monkeypatch):
    import socket
    import subprocess
    import sys
    import tempfile

    from triage.datafiles import read_labelled

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    left = [tmp_path / f"triage-features-{host}-{gone.stdout.strip()}-abc",  # killed: its process is gone
            tmp_path / f"triage-features-{host}-{os.getpid()}-def",           # a running retraining's
            tmp_path / f"triage-features-elsewhere-{gone.stdout.strip()}-ghi"]  # another host's, sharing the disk
    for folder in left:
        folder.mkdir()
        (folder / "features").write_bytes(b"x" * 1000)
    data = read_labelled([small_corpus_path])
    TriageModel().fit(data.texts, {"urgency": data.labels["urgency"]})
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(folder.name for folder in left[1:])


def test_groups_keep_variants_of_one_wording_in_one_fold(small_corpus_path):
    from triage.datafiles import read_labelled

    data = read_labelled([small_corpus_path])
    groups = [str(index % 4) for index in range(len(data.texts))]
    grouped = TriageModel().fit(data.texts, {"urgency": data.labels["urgency"]}, groups=groups)
    plain = TriageModel().fit(data.texts, {"urgency": data.labels["urgency"]})
    assert grouped.heads_["urgency"].grouped_folds_ and not plain.heads_["urgency"].grouped_folds_
    assert grouped.version_ != plain.version_  # the grouping is part of what was trained on


def test_matter_heads_read_the_opening_urgency_and_comparisons_the_whole_text_only(small_model):
    import numpy as np

    from triage.model import MATTER_HEADS

    body = small_model.featuriser_.body_columns
    assert 0 < body < len(small_model.feature_names_)
    for name, head in small_model.heads_.items():
        if name == "subcategory":  # one per category in the small corpus: nothing to tell apart, no weight
            assert not head.coef_.any()
            continue
        opening_weights = np.abs(head.coef_[:, body:]).sum()
        assert (opening_weights > 0) == (name in MATTER_HEADS), name
        assert head.coef_.flags["F_CONTIGUOUS"]  # else every product copies the weights (1 ms a text)
    texts = ["饭店油烟直排熏得不敢开窗", "", "老板拖欠工资三个月了"]
    results, rows = small_model.predict_with_features(texts)
    assert rows[1] is None and results[1]["status"] == "unreadable"
    assert small_model.predict_with_features(texts, rows=False) == (results, [None] * 3)  # predict's: no rows
    wording = small_model.featuriser_.wording([results[0]["text"], results[2]["text"]])
    for row, position in ((rows[0], 0), (rows[2], 1)):
        indices, values = row
        assert indices.max() < body and np.isclose(np.dot(values, values), 1.0)
        assert np.allclose(wording[position].toarray()[0][indices], values)


def test_predicting_keeps_blas_to_one_thread_and_gives_the_process_its_threads_back(small_model, monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from triage.heads import HeadStack

    seen = []
    stock = HeadStack.predict_proba

    def recording(heads, features):
        seen.append({library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"})
        return stock(heads, features)

    monkeypatch.setattr(HeadStack, "predict_proba", recording)
    with threadpool_limits(limits=2, user_api="blas"):  # as a process with two cores starts
        small_model.predict(["楼下饭店的油烟直排到我家窗户", "包工头拖欠我们的工资快一年了"])
        after = {library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"}
    assert seen and all(threads == {1} for threads in seen)
    assert after == {2}
