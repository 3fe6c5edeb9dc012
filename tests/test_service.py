"""The HTTP service: every route documented, one error shape for every bad request,
tokens, idempotent intake, the queue over HTTP, metrics, logs and model reload."""
import io
import json
import logging
import re

import pytest

from triage.api.logs import LOGGER_NAME, JsonFormatter
from triage.api.openapi import spec
from triage.cli import main
from triage.errors import StoreError

from conftest import ADMIN_TOKEN

FLASK_TO_OPENAPI = re.compile(r"<(?:int:)?(\w+)>")


def test_every_route_is_documented_and_every_documented_route_exists(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = FLASK_TO_OPENAPI.sub(r"{\1}", rule.rule)
        if "<any(" in rule.rule:  # one Flask rule for every lifecycle action
            from triage.lifecycle import ACTIONS
            served |= {(f"/v1/cases/{{case_id}}/{action}", "post") for action in ACTIONS}
            continue
        served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, operations in spec()["paths"].items() for method in operations}
    assert served == documented


def test_openapi_is_served(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200 and answer.json["openapi"].startswith("3.1")


BAD_REQUESTS = [
    # (method, path, body, headers, status, code, field)
    ("post", "/v1/predict", "{not json", {}, 400, "invalid_input", "body"),
    ("post", "/v1/predict", "", {}, 400, "invalid_input", "body"),
    ("post", "/v1/predict", "[1, 2]", {}, 400, "invalid_input", "body"),
    ("post", "/v1/predict", "[" * 100000, {}, 400, "invalid_input", "body"),
    ("post", "/v1/predict", b"\xff\xfe\xfa", {}, 400, "invalid_input", "body"),
    ("post", "/v1/predict", {"txt": "路灯坏了"}, {}, 400, "invalid_input", "text"),
    ("post", "/v1/predict", {"text": 12}, {}, 400, "invalid_input", "text"),
    ("post", "/v1/predict", {"text": "   "}, {}, 400, "invalid_input", "text"),
    ("post", "/v1/predict", {"text": "路" * 20001}, {}, 400, "invalid_input", "text"),
    # JSON may escape a lone surrogate (bytes a client could not decode); it is no character
    ("post", "/v1/predict", '{"text": "\\udce5路灯坏了一个月"}', {}, 400, "invalid_input", "text"),
    ("post", "/v1/triage", '{"text": "路灯坏了一个月", "caller": {"name": "\\udce5"}}', "auth", 400,
     "invalid_input", "caller.name"),
    ("post", "/v1/triage", '{"text": "路灯坏了一个月", "location": {"\\ud800": 1}}', "auth", 400,
     "invalid_input", "location"),
    ("post", "/v1/cases/1/claim", '{"actor": "\\udfff"}', "auth", 400, "invalid_input", "actor"),
    # NUL: PostgreSQL refuses it in text (bench/fuzz_api.py found a 500 on the queue's department)
    ("get", "/v1/queue?department=%00", None, "auth", 400, "invalid_input", "department"),
    ("post", "/v1/cases/1/claim", '{"actor": "a\\u0000b"}', "auth", 400, "invalid_input", "actor"),
    ("post", "/v1/triage", '{"text": "路灯坏了一个月", "location": "3号楼\\u0000"}', "auth", 400,
     "invalid_input", "location"),
    ("post", "/v1/triage", {"text": "路灯坏了", "channel": "fax"}, "auth", 400, "invalid_input", "channel"),
    ("post", "/v1/triage", {"text": "路灯坏了", "received_at": "yesterday"}, "auth", 400, "invalid_input",
     "received_at"),
    ("post", "/v1/triage", {"text": "路灯坏了", "received_at": "2099-01-01T00:00:00"}, "auth", 400,
     "invalid_input", "received_at"),
    ("post", "/v1/triage", {"text": "路灯坏了", "received_at": "0001-01-01T00:00:00"}, "auth", 400,  # UTC: the year 0
     "invalid_input", "received_at"),
    ("post", "/v1/triage", {"text": "路灯坏了", "received_at": "0001-01-02T00:00:00+00:00"}, "auth", 400,
     "invalid_input", "received_at"),  # the repeat window reaching back from it would leave the calendar
    ("post", "/v1/triage", {"text": "路灯坏了", "caller": {"phone": 138}}, "auth", 400, "invalid_input",
     "caller.phone"),
    ("post", "/v1/triage", {"text": "路灯坏了", "caller": {"shoe_size": "42"}}, "auth", 400, "invalid_input",
     "caller"),
    ("post", "/v1/triage", {"text": "路灯坏了", "external_id": "has spaces in it"}, "auth", 400,
     "invalid_input", "external_id"),
    ("post", "/v1/triage/batch", {"items": []}, "auth", 400, "invalid_input", "items"),
    ("post", "/v1/triage/batch", {"items": [{"text": "x"}] * 101}, "auth", 400, "invalid_input", "items"),
    ("get", "/v1/queue?limit=0", None, "auth", 400, "invalid_input", "limit"),
    ("get", "/v1/queue?urgency=very", None, "auth", 400, "invalid_input", "urgency"),
    ("get", "/v1/queue?overdue=maybe", None, "auth", 400, "invalid_input", "overdue"),
    ("get", "/v1/queue?colour=red", None, "auth", 400, "invalid_input", "colour"),
    ("get", "/v1/cases/999", None, "auth", 404, "case_not_found", "case_id"),
    ("get", "/v1/cases/99999999999999999999999", None, "auth", 404, "case_not_found", "case_id"),
    ("post", "/v1/queue/claim", {"actor": "a", "department": {"name": "x"}}, "auth", 400, "invalid_input",
     "department"),
    ("post", "/v1/cases/999/claim", {"actor": "a"}, "auth", 404, "case_not_found", "case_id"),
    ("post", "/v1/cases/1/claim", {}, "auth", 400, "invalid_input", "actor"),
    ("get", "/v1/queue", None, {}, 401, "unauthorized", None),
    ("get", "/v1/queue", None, {"Authorization": "Bearer wrong-token-but-long-enough"}, 401, "unauthorized", None),
    ("get", "/v1/queue", None, {"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthorized", None),
    ("post", "/v1/admin/reload", {}, "auth", 401, "unauthorized", None),  # an API token is not an admin token
    ("get", "/v1/nothing-here", None, {}, 404, "not_found", None),
    ("delete", "/v1/predict", None, {}, 405, "method_not_allowed", None),
]


@pytest.mark.parametrize("method, path, body, headers, status, code, field", BAD_REQUESTS)
def test_bad_requests_get_one_json_error_shape(client, auth, method, path, body, headers, status, code, field):
    headers = auth if headers == "auth" else headers
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    answer = getattr(client, method)(path, headers=headers, **kwargs)
    assert answer.status_code == status
    assert answer.json["error"]["code"] == code and answer.json["error"]["message"]
    assert answer.json["error"].get("field") == field


def test_a_lone_surrogate_fails_only_its_batch_item_and_an_emoji_is_a_character(client, auth):
    body = '{"items": [{"text": "路灯坏了一个月\\udce5"}, {"text": "路灯坏了一个月，晚上很黑 \\ud83d\\ude00"}]}'
    answer = client.post("/v1/triage/batch", data=body, headers=auth)
    assert answer.status_code == 200 and (answer.json["succeeded"], answer.json["failed"]) == (1, 1)
    first, second = answer.json["items"]
    assert first["status"] == "error" and first["error"]["field"] == "items[0].text"
    assert second["created"] is True and second["text"].endswith("\U0001f600")


def test_a_body_over_the_limit_gets_413(client):
    answer = client.post("/v1/predict", data="路" * 4_000_000, content_type="application/json")
    assert answer.status_code == 413 and answer.json["error"]["code"] == "body_too_large"


def test_an_unexpected_failure_is_a_json_500_with_the_request_id(client, app, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(app.extensions["triage"].slot.model, "predict_with_features", broken)
    answer = client.post("/v1/predict", json={"text": "路灯坏了一个月"}, headers={"X-Request-ID": "req-42"})
    assert answer.status_code == 500 and "req-42" in answer.json["error"]["message"]
    assert answer.headers["X-Request-ID"] == "req-42"


def test_predict_is_open_and_stores_nothing(client, app):
    answer = client.post("/v1/predict", json={"text": "饭店油烟直排熏得不敢开窗"})
    assert answer.status_code == 200 and answer.json["category"]["label"] == "环境保护"
    assert "case_id" not in answer.json and app.extensions["triage"].store.count() == 0


def test_predict_can_be_closed(small_model_dir, tmp_path):
    from service import create_app

    app = create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'c.db'}",
                      "open_predict": False, "caller_secret": "test-secret", "QUIET_ACCESS_LOG": True})
    assert app.test_client().post("/v1/predict", json={"text": "路灯坏了"}).status_code == 401


def test_a_centre_floor_over_the_auto_band_is_on_the_card_and_in_the_answers(small_model_dir, tmp_path, client):
    """``auto_min_confidence`` from the service's configuration: the model card names it,
    and a department that was ``auto`` under it is a suggestion."""
    from service import create_app

    text = {"text": "路上井盖丢了"}
    plain = client.post("/v1/predict", json=text).json
    assert plain["department"]["band"] == plain["decision"] == "auto" and plain["department"]["confidence"] < 1
    assert client.get("/v1/model").json["auto_min_confidence"] == {}
    app = create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'f.db'}",
                      "auto_min_confidence": "department=1", "caller_secret": "test-secret",
                      "QUIET_ACCESS_LOG": True})
    floored = app.test_client()
    assert floored.get("/v1/model").json["auto_min_confidence"] == {"department": 1.0}
    held = floored.post("/v1/predict", json=text).json
    assert (held["department"]["label"], held["department"]["band"]) == (plain["department"]["label"], "suggest")
    assert held["decision"] == "suggest"


def test_triage_stores_once_per_external_id(client, auth, app):
    body = {"text": "饭店油烟直排熏得不敢开窗", "external_id": "12345-2026-0001", "channel": "web",
            "received_at": "2026-11-20T09:30:00+08:00", "caller": {"phone": "13812345678"}}
    first = client.post("/v1/triage", json=body, headers=auth)
    again = client.post("/v1/triage", json=body, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["case_id"] == again.json["case_id"] and app.extensions["triage"].store.count() == 1
    assert first.json["queue"]["deadlines"]["respond_by"].startswith("2026-11-23T01:30")
    case = client.get(f"/v1/cases/{first.json['case_id']}", headers=auth).json
    assert case["caller"]["phone"] == "138****5678" and case["channel"] == "web"
    assert client.post("/v1/triage?dry_run=1", json={"text": "另一件投诉的内容"}, headers=auth).status_code == 200
    assert app.extensions["triage"].store.count() == 1


def test_a_stored_number_beyond_64_bits_comes_back_whole(client, auth):
    # orjson refuses such integers; the answer must not be a 500 (found by bench/fuzz_api.py)
    big = 2 ** 70
    created = client.post("/v1/triage", data=f'{{"text": "小区路灯坏了一个月", "location": {{"grid": {big}}}}}',
                          headers={**auth, "Content-Type": "application/json"})
    assert created.status_code == 201
    case = client.get(f"/v1/cases/{created.json['case_id']}", headers=auth)
    assert case.status_code == 200 and case.json["location"] == {"grid": big}
    assert b'"text":"' in case.data  # still compact, not ASCII-escaped


def test_json_text_holds_what_orjson_cannot():
    """``jsontext`` (answers and stored JSON columns): orjson's compact UTF-8, the standard
    library's for an integer beyond 64 bits, a \\u escape for a lone surrogate; each reads back."""
    from triage import jsontext

    assert jsontext.encode({"地址": "幸福路"}) == '{"地址":"幸福路"}'.encode("utf-8")
    for value in ({"grid": 2 ** 70, "地址": "幸福路"}, {"name": "王\ud800"}, ["\udfff", 2 ** 64]):
        assert json.loads(jsontext.encode(value)) == value and json.loads(jsontext.text(value)) == value
    assert jsontext.encode({"grid": 2 ** 70, "地址": "幸福路"}) == '{"grid":1180591620717411303424,"地址":"幸福路"}'.encode()


def test_traditional_script_and_personal_numbers_are_handled(client):
    answer = client.post("/v1/predict", json={"text": "飯店油煙直排燻得不敢開窗，電話13812345678"}).json
    assert answer["category"]["label"] == "环境保护"
    assert "13812345678" not in json.dumps(answer, ensure_ascii=False) and "phone" in answer["personal_data"]


def test_a_bad_batch_item_fails_alone(client, auth, app):
    answer = client.post("/v1/triage/batch", headers=auth, json={"items": [
        {"text": "饭店油烟直排熏得不敢开窗"}, {"text": 7}, "not an object", {"text": "老板拖欠工资三个月了"}]})
    assert answer.status_code == 200 and (answer.json["succeeded"], answer.json["failed"]) == (2, 2)
    items = answer.json["items"]
    assert items[1]["error"]["field"] == "items[1].text" and items[2]["error"]["field"] == "items[2]"
    assert items[0]["case_id"] != items[3]["case_id"] and app.extensions["triage"].store.count() == 2


def test_a_case_is_worked_through_the_queue_over_http(client, auth):
    case_id = client.post("/v1/triage", json={"text": "饭店油烟直排熏得不敢开窗"}, headers=auth).json["case_id"]
    queue = client.get("/v1/queue", headers=auth).json
    assert [item["case_id"] for item in queue["items"]] == [case_id]
    claimed = client.post("/v1/queue/claim", json={"actor": "派单员-李四"}, headers=auth).json
    assert claimed["case_id"] == case_id and claimed["claimed_by"] == "派单员-李四"
    assert client.post("/v1/queue/claim", json={"actor": "派单员-王五"}, headers=auth).status_code == 404
    again = client.post(f"/v1/cases/{case_id}/claim", json={"actor": "派单员-王五"}, headers=auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    moved = client.post(f"/v1/cases/{case_id}/reassign", headers=auth,
                        json={"actor": "派单员-李四", "department": "生态环境局", "reason": "油烟归环保"}).json
    assert moved["status"] == "reassigned" and moved["department"] == "生态环境局"
    wrong = client.post(f"/v1/cases/{case_id}/reassign", headers=auth,
                        json={"actor": "派单员-李四", "department": "外星事务局", "reason": "x"})
    assert wrong.status_code == 400 and wrong.json["error"]["field"] == "department"
    done = client.post(f"/v1/cases/{case_id}/resolve", json={"actor": "环保-赵六"}, headers=auth)
    assert done.status_code == 409  # must be claimed first
    client.post(f"/v1/cases/{case_id}/claim", json={"actor": "环保-赵六"}, headers=auth)
    done = client.post(f"/v1/cases/{case_id}/resolve", json={"actor": "环保-赵六", "reason": "已整改"}, headers=auth)
    assert done.json["status"] == "resolved" and len(done.json["events"]) == 5


def test_feedback_is_checked_stored_and_exported(client, auth, app, tmp_path, capsys):
    case_id = client.post("/v1/triage", json={"text": "饭店油烟直排熏得不敢开窗"}, headers=auth).json["case_id"]
    bad = client.post(f"/v1/cases/{case_id}/feedback", json={"actor": "a", "urgency": "very"}, headers=auth)
    assert bad.status_code == 400 and bad.json["error"]["field"] == "urgency"
    empty = client.post(f"/v1/cases/{case_id}/feedback", json={"actor": "a"}, headers=auth)
    assert empty.status_code == 400
    stored = client.post(f"/v1/cases/{case_id}/feedback", headers=auth, json={
        "actor": "派单员-李四", "category": "环境保护", "subcategory": "环境污染", "department": "生态环境局"})
    assert stored.status_code == 201 and stored.json["predicted"]["category"] == "环境保护"
    out = tmp_path / "labels.csv"
    url = app.extensions["triage"].settings["database_url"]
    assert main(["export-labels", "--database", url, "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("text,category,subcategory,department") and "环境污染" in lines[1]
    assert "exported 1 labelled cases" in capsys.readouterr().err


def test_metrics_count_requests_predictions_and_queue_depth(client, auth):
    client.post("/v1/triage", json={"text": "饭店油烟直排熏得不敢开窗"}, headers=auth)
    text = client.get("/metrics").data.decode()
    assert 'triage_http_requests_total{endpoint="/v1/triage",method="POST",status="201"} 1.0' in text
    assert re.search(r'triage_predictions_total\{band="\w+",head="category",label="环境保护"\} 1.0', text)
    assert re.search(r'triage_queue_depth\{department="[^"]+",urgency="\w+"\} 1.0', text)


def test_readiness_reports_a_lost_store(client, app, monkeypatch):
    assert client.get("/readyz").json["status"] == "ready"

    def lost():
        raise StoreError("the case store cannot be reached: connection refused")
    monkeypatch.setattr(app.extensions["triage"].store, "ping", lost)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and "connection refused" in answer.json["checks"]["store"]
    assert client.get("/healthz").status_code == 200


def test_a_database_without_the_schema_is_503_with_the_cause_not_500(client, app, auth):
    """The database dropped and created again (or restored from an older backup) behind the
    running service: readiness fails and intake answers 503, saying what to do."""
    from triage.store.schema import metadata

    store = app.extensions["triage"].store
    with store.engine.begin() as connection:
        metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE alembic_version")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "lost its schema" in ready.json["checks"]["store"]
    answer = client.post("/v1/triage", json={"text": "饭店油烟直排熏得不敢开窗"}, headers=auth)
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "store_unavailable" and "restart triage" in answer.json["error"]["message"]


def test_the_model_card_lists_the_safety_rules_in_force(client):
    rules = {rule["id"]: rule for rule in client.get("/v1/model").json["safety_rules"]}
    assert rules["self_harm.v3"] == {"id": "self_harm.v3", "level": "特急", "label": "轻生风险", "departments": ["公安局"]}
    assert rules["fire.v5"]["departments"][0] == "应急管理局"


def test_reload_swaps_only_a_model_that_verifies(client, small_model_dir, tmp_path):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    version = client.get("/v1/model").json["version"]
    refused = client.post("/v1/admin/reload", json={"model_dir": str(tmp_path / "absent")}, headers=admin)
    assert refused.status_code == 404 and f"still serving {version}" in refused.json["error"]["message"]
    card = client.get("/v1/model").json
    assert card["version"] == version and "refused" in card["last_reload_error"]
    assert client.post("/v1/admin/reload", headers=admin).json["version"] == version
    assert client.get("/v1/model").json["last_reload_error"] is None


def test_logs_are_json_lines_with_request_ids_and_no_personal_numbers(client, auth, app):
    app.config["QUIET_ACCESS_LOG"] = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        client.post("/v1/triage", headers={**auth, "X-Request-ID": "abc-123"},
                    json={"text": "我的电话13812345678，身份证110101199003071234", "caller": {"phone": "13812345678"}})
        client.post("/v1/triage", json={"text": "no token"})
        read_out = client.post("/v1/triage", headers=auth, json={"text": "楼道灯坏了，我电话幺三九 一二三四 五六七八"})
        paused = client.post("/v1/triage", headers=auth, json={"text": "楼道灯坏了，我电话１３９，２４６８，１３５７"})
        logger.info("caller 13912345678 called back")
        logger.info("caller 一三七一二三四五六七八 read it out")
        client.post("/v1/cases/1\u2028\x85\u2029/claim", headers=auth)  # line breaks to some readers, raw in JSON
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line.get("path") == "/v1/cases/1\u2028\x85\u2029/claim" for line in lines)
    assert lines and all("time" in line and "level" in line for line in lines)
    assert any(line.get("request_id") == "abc-123" for line in lines)
    assert any(line.get("status") == 401 for line in lines)
    logged = stream.getvalue()
    assert "13812345678" not in logged and "110101199003071234" not in logged and "13912345678" not in logged
    assert "五六七八" not in logged and "五六七八" not in read_out.get_data(as_text=True)  # read out, as speech recognition writes it
    assert "2468" not in logged and "2468" not in paused.get_data(as_text=True)  # said with pauses, in full-width digits


@pytest.mark.parametrize("config, message", [
    ({"api_tokens": ("short",)}, "shorter than 16 characters"),
    ({"api_tokens_file": "/nonexistent/tokens.txt"}, "cannot be read"),
    ({"database_url": "mysql://somewhere/db"}, "not supported"),
    ({"database_url": "not a url"}, "is not a database URL"),
    ({"database_url": "sqlite:////proc/no-such-folder/c.db"}, "cannot make the folder /proc/no-such-folder"),
])
def test_bad_service_settings_stop_start_up_with_the_fix(small_model_dir, tmp_path, config, message):
    from service import create_app
    from triage.errors import SettingError

    base = {"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'c.db'}"}
    with pytest.raises(SettingError, match=message):
        create_app({**base, **config})


@pytest.mark.parametrize("named", [False, True])
def test_gunicorn_removes_the_metrics_folder_it_made_and_makes_none_when_one_is_named(small_model_dir, tmp_path, named):
    """Production serving (``gunicorn -c gunicorn.conf.py``): without PROMETHEUS_MULTIPROC_DIR
    the workers' counters go to a folder made at start and removed at exit; with one named,
    no other is made (one was, empty, at every start, and none was ever removed)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PROMETHEUS_MULTIPROC_DIR", "TRIAGE_MADE_METRICS_DIR")}
    environment.update(TMPDIR=str(temporary), TRIAGE_MODEL_DIR=str(small_model_dir), TRIAGE_WORKERS="1",
                       TRIAGE_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}", TRIAGE_BIND=f"127.0.0.1:{port}",
                       TRIAGE_API_TOKENS="gunicorn-test-token-0123456789", TRIAGE_CALLER_SECRET="test-secret")
    if named:
        (tmp_path / "metrics").mkdir()
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    log = tmp_path / "server.log"
    with log.open("w") as errors, subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "service:create_app()"],
            cwd=root, env=environment, stdout=subprocess.DEVNULL, stderr=errors) as server:
        try:
            started = time.monotonic()
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                        assert answer.status == 200
                        break
                except OSError:
                    assert server.poll() is None, log.read_text()[-2000:]
                    assert time.monotonic() - started < 60, "gunicorn did not get ready in 60 s"
                    time.sleep(0.1)
            assert len(list(temporary.glob("triage-metrics-*"))) == (0 if named else 1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    assert server.returncode == 0, log.read_text()[-2000:]
    assert not list(temporary.glob("triage-metrics-*"))
    assert not named or (tmp_path / "metrics").is_dir()  # a named folder is the operator's: it stays
