"""The retraining lifecycle: registering versions, the promotion gate, rollback, a running
service picking up the champion, and learning from dispatchers' corrections."""
import threading

import pytest

from triage import TriageModel, load_settings, save
from triage.cli import main
from triage.datafiles import read_labelled
from triage.errors import ModelError
from triage.registry import Registry, compare

HEADS = ("category", "subcategory", "department", "urgency", "request_type")


@pytest.fixture
def corpus(small_corpus_path):
    return read_labelled([small_corpus_path])


@pytest.fixture
def registry(tmp_path, small_corpus_path, small_model):
    """A registry whose bundled default is the small model; the frozen test set is the
    small corpus itself (the gate's logic is under test here, not generalisation)."""
    save(small_model, tmp_path / "models" / "default")
    settings = load_settings({"registry_dir": str(tmp_path / "models"), "frozen_test_set": str(small_corpus_path),
                              "model_dir": ""}, environ={})
    return Registry(settings)


def scrambled(corpus, head="category"):
    """Labels of ``head`` rotated by one class: a model that learns them is worse."""
    labels = {name: list(values) for name, values in corpus.labels.items()}
    classes = sorted(set(labels[head]))
    labels[head] = [classes[(classes.index(label) + 1) % len(classes)] for label in labels[head]]
    if head == "category":
        labels.pop("subcategory")
    return labels


def test_a_worse_challenger_is_refused_then_forced_then_rolled_back(registry, corpus, small_model, caplog):
    worse = TriageModel().fit(corpus.texts, scrambled(corpus))
    metadata = registry.register(worse)
    assert metadata["parent"] == small_model.version_ and "frozen_test" in metadata["metrics"]

    refused = registry.promote(worse.version_)
    assert not refused["promoted"] and not refused["passed"]
    assert any("does not beat" in failure for failure in refused["failures"])
    assert any(row["head"] == "category" and row["change"] < -0.02 for row in refused["classes"])
    assert registry.champion_folder() == registry.default

    forced = registry.promote(worse.version_, force=True, reason="test")
    assert forced["promoted"] and registry.champion_folder() == registry.versions / worse.version_
    assert registry.state()["history"][-1]["forced"] is True
    assert "promoted by force" in caplog.text

    assert registry.rollback() == small_model.version_
    assert registry.champion_folder() == registry.default
    with pytest.raises(ModelError, match="already the champion"):
        registry.promote(small_model.version_)


def test_a_better_challenger_passes_the_gate(registry, corpus, small_model):
    # The champion learned from every other row; the challenger from all of them.
    half = TriageModel().fit(corpus.texts[::2], {name: values[::2] for name, values in corpus.labels.items()})
    registry.register(half)
    assert registry.promote(half.version_, force=True)["promoted"]
    comparison = registry.promote(small_model.version_)
    assert comparison["passed"] and comparison["challenger_score"] > comparison["champion_score"]
    assert registry.champion_folder() == registry.default


def test_compare_refuses_a_class_that_falls_by_more_than_the_margin():
    def report(f1_a, f1_b):
        return {"heads": {"urgency": {"macro_f1": (f1_a + f1_b) / 2, "per_class": {
            "特急": {"f1": f1_a, "support": 10}, "一般": {"f1": f1_b, "support": 10}}}}}
    assert compare(report(0.9, 0.8), report(0.95, 0.79), margin=0.02)["passed"]
    failed = compare(report(0.9, 0.8), report(1.0, 0.75), margin=0.02)
    assert not failed["passed"] and failed["failures"] == ["urgency 一般: F1 0.800 -> 0.750 (more than 0.02 lower)"]


def test_a_running_service_serves_the_promoted_model_without_failing_requests(registry, corpus, tmp_path):
    from service import create_app

    app = create_app({"registry_dir": str(registry.root), "frozen_test_set": registry.settings["frozen_test_set"],
                      "model_dir": "", "database_url": f"sqlite:///{tmp_path / 's.db'}",
                      "api_tokens": ("t" * 20,), "admin_tokens": ("a" * 20,), "caller_secret": "x",
                      "TESTING": True, "QUIET_ACCESS_LOG": True})
    client = app.test_client()
    before = client.get("/v1/model", headers={"Authorization": "Bearer " + "t" * 20}).json["version"]
    challenger = TriageModel(C=0.7).fit(corpus.texts, corpus.labels)
    registry.register(challenger)
    registry.promote(challenger.version_, force=True)

    statuses, stop = [], threading.Event()

    def keep_asking():
        while not stop.is_set():
            statuses.append(app.test_client().post("/v1/predict", json={"text": "饭店油烟直排熏得不敢开窗"},
                                                   headers={"Authorization": "Bearer " + "t" * 20}).status_code)
    asker = threading.Thread(target=keep_asking)
    asker.start()
    reloaded = client.post("/v1/admin/reload", headers={"Authorization": "Bearer " + "a" * 20})
    stop.set()
    asker.join()
    assert reloaded.status_code == 200 and reloaded.json["version"] == challenger.version_ != before
    assert statuses and set(statuses) == {200}


def test_cli_register_list_promote_rollback(capsys, tmp_path, small_corpus_path, small_model, monkeypatch):
    save(small_model, tmp_path / "models" / "default")
    monkeypatch.setenv("TRIAGE_REGISTRY_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("TRIAGE_FROZEN_TEST_SET", str(small_corpus_path))
    assert main(["train", str(small_corpus_path), "--register", "--C", "0.7"]) == 0
    out = capsys.readouterr().out
    version = out.split("model ")[-1].split()[0]
    assert "registered (parent " + small_model.version_ in out

    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"* {small_model.version_}" in listing and version in listing

    code = main(["models", "promote", version])
    out, err = capsys.readouterr()
    assert "overall (mean macro-F1)" in out and "category" in out
    if code == 1:  # the gate refused: say why, then force
        assert "promotion refused" in err
        assert main(["models", "promote", version, "--force", "--reason", "test"]) == 0
        capsys.readouterr()
    assert main(["models", "list"]) == 0 and f"* {version}" in capsys.readouterr().out
    assert main(["models", "rollback"]) == 0 and small_model.version_ in capsys.readouterr().out
    assert main(["models", "promote", "m-nonexistent"]) == 1
    assert "no model version 'm-nonexistent'" in capsys.readouterr().err
    assert main(["train", str(small_corpus_path)]) == 2  # nowhere to put it


def test_learning_from_corrections_in_the_case_store(tmp_path, small_corpus_path, capsys):
    """Dispatchers keep correcting one kind of case to another department; a model retrained
    with the store's human-confirmed labels routes it there."""
    from triage.store import CaseStore, migrate, open_engine

    corpus = read_labelled([small_corpus_path])
    matter = "小区电梯又坏了，老人上下楼很困难"
    base = TriageModel().fit(corpus.texts, corpus.labels)
    before = base.predict([matter])[0]["department"]["label"]
    corrected = "住房和城乡建设局" if before != "住房和城乡建设局" else "市场监督管理局"

    database = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = open_engine(database)
    migrate(engine)
    store = CaseStore(engine, load_settings({"caller_secret": "x"}, environ={}))
    wordings = ["小区电梯坏了好几天没人修", "楼里电梯经常困人物业不管", "电梯年检过期了还在运行",
                "电梯突然下坠吓坏了住户", "加装电梯的事迟迟没有进展", "电梯按钮失灵门关不上"]
    for number, text in enumerate(wordings * 2):
        result = base.predict([text])[0]
        case, _ = store.create({"text": text, "external_id": f"e{number}", "channel": "hotline"}, result)
        store.feedback(case["case_id"], "dispatcher-1", {"department": corrected, "category": "城乡建设"})
    engine.dispose()

    assert main(["train", str(small_corpus_path), "--store", database, "--out", str(tmp_path / "retrained")]) == 0
    assert "store-labels" in capsys.readouterr().out
    from triage import load_model
    assert load_model(tmp_path / "retrained").predict([matter])[0]["department"]["label"] == corrected


def test_a_champion_saved_by_an_older_triage_can_be_replaced_not_rolled_back_to(registry, corpus, small_model):
    """After an upgrade that changes the model schema, the old champion cannot be loaded:
    the registry still lists it, a new model registers with it as parent, promotion over it
    needs --force (nothing to compare with), and nothing rolls back to it."""
    import json

    save(small_model, registry.versions / "m-older0000000")
    metadata_path = registry.versions / "m-older0000000" / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata.update(schema="triage-model.v1", version="m-older0000000")
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
    registry._record("promote", "m-older0000000", small_model.version_, "test", "before the upgrade")

    [listed] = [entry for entry in registry.list() if entry["version"] == "m-older0000000"]
    assert listed["champion"] and "schema 'triage-model.v1'" in listed["problem"]
    challenger = registry.register(TriageModel(C=0.7).fit(corpus.texts, corpus.labels))
    assert challenger["parent"] == "m-older0000000"

    refused = registry.promote(challenger["version"])
    assert not refused["promoted"] and "cannot be compared" in refused["failures"][0]
    assert refused["champion_score"] is None and refused["challenger_score"] > 0
    forced = registry.promote(challenger["version"], force=True, reason="upgrade")
    assert forced["promoted"] and registry.state()["champion"] == challenger["version"]
    with pytest.raises(ModelError, match="cannot roll back to m-older0000000"):
        registry.rollback()
    assert registry.state()["champion"] == challenger["version"]
