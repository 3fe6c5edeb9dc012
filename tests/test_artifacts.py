import gc
import json
import shutil
import weakref

import pytest

from triage import ModelIntegrityError, ModelNotFoundError, load_model, save
from triage.artifacts import METADATA_FILE, MODEL_FILE, load

TEXTS = ["半夜工地施工太吵", "饭店油烟直排", "老板拖欠工资", "学校乱收资料费", "楼道里有燃气味"]


def test_round_trip_gives_identical_predictions(small_model, small_model_dir):
    assert load(small_model_dir).predict(TEXTS) == small_model.predict(TEXTS)


def test_a_loaded_model_is_kept_from_the_collector_yet_freed_when_dropped(small_model_dir):
    # Loading freezes what is alive (gc.freeze); that is only safe because a dropped model,
    # frozen or not, is freed by reference counting alone: a reload must not leak the old one.
    collecting = gc.isenabled()
    gc.disable()
    try:
        model = load(small_model_dir)
        assert gc.get_freeze_count() > 0
        assert not any(found is model for found in gc.get_objects())
        model.predict(TEXTS)  # caches made on first use are dropped with the model too
        parts = [weakref.ref(part) for part in (model, model.featuriser_, *model.heads_.values())]
        del model
        assert [part() for part in parts] == [None] * len(parts)
    finally:
        if collecting:
            gc.enable()


def test_metadata_records_what_a_reviewer_needs(small_model_dir):
    metadata = json.loads((small_model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    assert metadata["schema"] == "triage-model.v2"
    assert set(metadata["labels"]) == {"category", "subcategory", "department", "urgency", "request_type"}
    assert len(metadata["sha256"]) == 64 and len(metadata["data_hash"]) == 64
    assert {"scikit-learn", "numpy", "triage"} <= set(metadata["libraries"])
    assert set(metadata["thresholds"]["category"]) == {"auto", "suggest", "auto_by_label"}
    by_label = metadata["thresholds"]["category"]["auto_by_label"]  # each label's own, never below the head's
    assert set(by_label) == set(metadata["labels"]["category"])
    assert min(by_label.values()) >= metadata["thresholds"]["category"]["auto"]
    assert "out_of_fold" in metadata["metrics"]


@pytest.fixture
def model_copy(small_model_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(small_model_dir, folder)
    return folder


def test_changed_file_is_refused_before_loading(model_copy):
    path = model_copy / MODEL_FILE
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load(model_copy)


def test_truncated_file_is_refused(model_copy):
    path = model_copy / MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelIntegrityError, match="truncated"):
        load(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy):
    path = model_copy / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["libraries"]["scikit-learn"] = "0.24.2"
    path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="scikit-learn 0.24.2"):
        load(model_copy)


def test_unknown_schema_is_refused(model_copy):
    path = model_copy / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["schema"] = "triage-model.v0"
    path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="schema"):
        load(model_copy)


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(ModelNotFoundError, match="triage train"):
        load(tmp_path / "nowhere")


def test_bundled_default_model_loads_and_catches_gas(tmp_path):
    model = load_model()
    result = model.predict(["楼道里有很浓的燃气味"])[0]
    assert result["urgency"]["label"] == "特急"


def test_save_refuses_an_unfitted_model(tmp_path):
    from triage import ModelError, TriageModel

    with pytest.raises(ModelError, match="trained"):
        save(TriageModel(), tmp_path)
