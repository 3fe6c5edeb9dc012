import pytest

from triage import SettingError, load_settings


def test_environment_overrides_defaults():
    settings = load_settings(environ={"TRIAGE_MIN_CHARS": "10", "TRIAGE_MASK_PERSONAL_DATA": "off"})
    assert settings["min_chars"] == 10 and settings["mask_personal_data"] is False


@pytest.mark.parametrize("environ, message", [
    ({"TRIAGE_MIN_CHARS": "zero"}, "TRIAGE_MIN_CHARS='zero' is not valid"),
    ({"TRIAGE_MIN_CHARS": "0"}, "above 0"),
    ({"TRIAGE_MASK_PERSONAL_DATA": "maybe"}, "true/false"),
    ({"TRIAGE_SEGMENTER": "thulac"}, "auto, rjieba or jieba"),
    ({"TRIAGE_SLA_NORMAL": "72,48,144"}, "three rising numbers"),
    ({"TRIAGE_SLA_URGENT": "24,48"}, "three rising numbers"),
    ({"TRIAGE_REPEAT_SIMILARITY_STEP": "1"}, "from 0 to below 1"),
    # beyond the calendar: a window or a deadline this long overflowed in judging or in the queue
    ({"TRIAGE_REPEAT_WINDOW_DAYS": "99999999"}, "at most 36500 days"),
    ({"TRIAGE_HOT_ISSUE_WINDOW_DAYS": "36501"}, "at most 36500 days"),
    ({"TRIAGE_SLA_NORMAL": "72,96,1e30"}, "at most 876000"),
    ({"TRIAGE_SLA_CRITICAL": "2,4,inf"}, "at most 876000"),
    ({"TRIAGE_AUTO_MIN_CONFIDENCE": "urgency=0.9"}, "'urgency' is not a head whose auto band can be raised"),
    ({"TRIAGE_AUTO_MIN_CONFIDENCE": "department=1.5"}, "department=a confidence above 0 and at most 1"),
    ({"TRIAGE_AUTO_MIN_CONFIDENCE": "department"}, "department=a confidence"),
])
def test_bad_values_name_the_setting_and_the_fix(environ, message):
    with pytest.raises(SettingError, match=message):
        load_settings(environ=environ)


def test_auto_floors_parse_per_head():
    settings = load_settings(environ={"TRIAGE_AUTO_MIN_CONFIDENCE": "department=0.999, subcategory=0.9"})
    assert dict(settings["auto_min_confidence"]) == {"department": 0.999, "subcategory": 0.9}
    assert dict(load_settings(environ={})["auto_min_confidence"]) == {}


def test_lists_and_deadlines_parse():
    settings = load_settings(environ={"TRIAGE_API_TOKENS": " first-token , second-token,", "TRIAGE_SLA_CRITICAL": "1,2,3"})
    assert settings["api_tokens"] == ("first-token", "second-token") and settings["sla_critical"] == (1.0, 2.0, 3.0)


def test_unknown_override_lists_known_settings():
    with pytest.raises(SettingError, match="known settings: model_dir"):
        load_settings({"colour": "red"}, environ={})


def test_segmenter_setting_selects_the_engine(monkeypatch):
    from triage import load_model
    from triage import segment

    monkeypatch.setenv("TRIAGE_SEGMENTER", "jieba")
    monkeypatch.setattr(segment, "_default_engine_name", "auto")
    load_model()
    assert segment.engine().name == "jieba"


def test_settings_of_the_environment_follow_a_change_of_it(monkeypatch):
    from triage.settings import resolve

    monkeypatch.setenv("TRIAGE_EXPLAIN_TOP", "4")
    assert resolve(None)["explain_top"] == 4
    assert resolve(None) is resolve(None)  # parsed once while the environment stays
    monkeypatch.setenv("TRIAGE_EXPLAIN_TOP", "2")
    assert resolve(None)["explain_top"] == 2
    with pytest.raises(TypeError):
        resolve(None)["explain_top"] = 9  # shared: read-only
