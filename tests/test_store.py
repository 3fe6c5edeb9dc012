"""The case store on SQLite and PostgreSQL: migrations, idempotent intake, the lifecycle
with its audit trail, queue order, concurrent claims, and labels for retraining."""
import threading
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from triage import hot_issues, lifecycle, sla
from triage.errors import CaseNotFoundError, InputError, TransitionError
from triage.settings import load_settings
from triage.store import utc_iso
from triage.store.database import HEAD_REVISION, migrate
from triage.store.schema import metadata

NOW = datetime(2026, 11, 2, 9, 0)


def result(urgency="一般", decision="suggest", department="城市管理和综合执法局", text="路灯坏了一个月没人修"):
    """The parts of an engine result the store reads."""
    return {"status": "ok", "text": text, "decision": decision, "model_version": "m-test",
            "category": {"label": "城乡建设", "subcategory": "城市建设和市政管理"},
            "department": {"label": department}, "urgency": {"label": urgency},
            "request_type": {"label": "投诉"}}


def make(store, text="路灯坏了一个月没人修", **kwargs):
    submission = {"text": text, **{k: kwargs.pop(k) for k in ("external_id", "received_at") if k in kwargs}}
    case, created = store.create(submission, result(text=text, **kwargs), now=NOW)
    return case


def test_migrations_build_exactly_the_declared_schema(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == HEAD_REVISION
        assert compare_metadata(context, metadata) == []
    assert migrate(store.engine) == HEAD_REVISION  # a second run is a no-op


def test_the_head_revision_is_the_newest_migration_script():
    from alembic.script import ScriptDirectory

    from triage.store.database import _alembic_config

    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION


def test_a_restart_on_a_migrated_database_does_not_import_alembic(tmp_path):
    """Only a database behind the newest revision needs Alembic (0.13 s of a start to import)."""
    import subprocess
    import sys

    script = ("import sys; from triage.store import migrate, open_engine; "
              f"engine = open_engine('sqlite:///{tmp_path / 'cases.db'}'); "
              "print(migrate(engine), 'alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs == [[HEAD_REVISION, "True"], [HEAD_REVISION, "False"]]


def test_a_database_of_the_previous_revision_upgrades_with_its_cases(store):
    """Cases stored before the feature rows existed keep everything else and come back
    with no row (the service featurises their text then); stepping back and forth through
    the migrations keeps the cases."""
    from alembic import command

    from triage.store.database import _alembic_config

    case, _ = store.create({"text": "路灯又坏了", "received_at": NOW}, result(text="路灯又坏了"), now=NOW,
                           keys=[("phone", "key-1")], features=b"\x01" * 16)
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        assert MigrationContext.configure(connection).get_current_revision() == "0003"
    assert migrate(store.engine) == HEAD_REVISION
    [prior] = store.prior_cases([("phone", "key-1")], NOW, 1)
    assert (prior["case_id"], prior["text"], prior["features"]) == (case["case_id"], "路灯又坏了", None)
    assert store.get(case["case_id"])["status"] == case["status"]
    with store.engine.begin() as connection:  # every step back keeps the cases (SQLite: in place)
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert migrate(store.engine) == HEAD_REVISION and store.count() == 1


def test_auto_routed_case_is_assigned_and_others_wait_for_a_dispatcher(store):
    automatic = make(store, decision="auto")
    waiting = make(store, text="另一件事情需要处理", decision="review")
    assert (automatic["status"], waiting["status"]) == ("assigned", "new")
    assert automatic["events"][0]["action"] == "assign" and automatic["events"][0]["actor"] == "triage"


def test_same_external_id_returns_the_same_case_and_a_different_text_is_refused(store):
    first, created = store.create({"text": "噪音扰民", "external_id": "hotline-1"}, result(), now=NOW)
    again, created_again = store.create({"text": "噪音扰民", "external_id": "hotline-1"}, result(), now=NOW)
    assert created and not created_again and again["case_id"] == first["case_id"]
    with pytest.raises(TransitionError, match="already belongs to case"):
        store.create({"text": "完全不同的投诉", "external_id": "hotline-1"}, result(), now=NOW)
    assert store.count() == 1


def test_concurrent_submissions_of_one_external_id_make_one_case(store):
    outcomes = []

    def submit():
        outcomes.append(store.create({"text": "重复提交", "external_id": "retry-7"}, result())[1])
    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 5 + [True] and store.count() == 1


@pytest.mark.parametrize("urgency, hours", [("特急", (2, 4, 24)), ("紧急", (24, 48, 72)), ("一般", (72, 96, 144))])
def test_deadlines_follow_urgency(store, urgency, hours):
    case = make(store, urgency=urgency, received_at=NOW)
    expected = [(NOW + timedelta(hours=h)).isoformat() + "+00:00" for h in hours]
    assert [case["deadlines"][key] for key in ("respond_by", "escalate_at", "meeting_at")] == expected


@pytest.mark.parametrize("days_later, stage", [(1, "on_time"), (3.5, "overdue"), (4.5, "escalated"), (6.5, "meeting")])
def test_the_seven_day_rhythm_moves_a_normal_case_through_its_stages(days_later, stage):
    due = sla.deadlines("一般", NOW, load_settings(environ={}))
    assert sla.stage(due, NOW + timedelta(days=days_later)) == stage
    assert sla.stage(due, NOW + timedelta(days=days_later), resolved=True) == "on_time"


def test_lifecycle_records_every_step_with_actor_and_reason(store):
    case = make(store, decision="auto")
    store.act(case["case_id"], "claim", "区城管-张三", now=NOW)
    store.act(case["case_id"], "return", "区城管-张三", reason="不属于本单位职责", now=NOW)
    store.act(case["case_id"], "reassign", "派单员-李四", reason="改派供水", department="供水公司", now=NOW)
    store.act(case["case_id"], "claim", "供水-王五", now=NOW)
    final = store.act(case["case_id"], "resolve", "供水-王五", reason="已修复", now=NOW)
    assert final["status"] == "resolved" and final["department"] == "供水公司"
    assert [(e["action"], e["to_status"]) for e in final["events"]] == [
        ("assign", "assigned"), ("claim", "in_progress"), ("return", "returned"),
        ("reassign", "reassigned"), ("claim", "in_progress"), ("resolve", "resolved")]
    assert final["events"][2]["reason"] == "不属于本单位职责" and final["events"][3]["actor"] == "派单员-李四"


@pytest.mark.parametrize("path, action", [
    (["claim", "resolve"], "claim"),          # closed cases stay closed
    (["claim"], "claim"),                     # two people never hold one case
    ([], "return"),                           # a new case has no department to return it
    (["claim", "resolve"], "escalate"),
])
def test_illegal_transitions_are_refused_and_change_nothing(store, path, action):
    case = make(store)
    for step in path:
        store.act(case["case_id"], step, "someone", reason="r", now=NOW)
    before = store.get(case["case_id"])
    with pytest.raises(TransitionError, match=f"cannot {action} a case that is"):
        store.act(case["case_id"], action, "someone", reason="r", department="供水公司", now=NOW)
    assert store.get(case["case_id"])["events"] == before["events"]


@pytest.mark.parametrize("action, field", [("return", "reason"), ("escalate", "reason"), ("reassign", "department")])
def test_actions_that_need_a_reason_or_department_say_so(store, action, field):
    case = make(store, decision="auto")
    with pytest.raises(InputError) as error:
        store.act(case["case_id"], action, "someone", reason=None if field == "reason" else "r", now=NOW)
    assert error.value.field == field


def test_unknown_case_is_not_found(store):
    with pytest.raises(CaseNotFoundError):
        store.get(424242)
    with pytest.raises(CaseNotFoundError):
        store.act(424242, "claim", "someone")


def test_queue_orders_by_urgency_then_deadline_and_pages(store):
    normal = make(store, text="一般的事", urgency="一般", received_at=NOW - timedelta(days=5))
    critical = make(store, text="特急的事", urgency="特急", received_at=NOW)
    urgent = make(store, text="紧急的事", urgency="紧急", received_at=NOW)
    page = store.queue(limit=2, now=NOW)
    assert [item["case_id"] for item in page["items"]] == [critical["case_id"], urgent["case_id"]]
    assert page["total"] == 3 and page["next_offset"] == 2
    rest = store.queue(limit=2, offset=2, now=NOW)
    assert [item["case_id"] for item in rest["items"]] == [normal["case_id"]] and rest["next_offset"] is None
    overdue = store.queue(overdue=True, now=NOW)
    assert [item["case_id"] for item in overdue["items"]] == [normal["case_id"]]
    assert overdue["items"][0]["stage"] == "escalated"
    assert store.queue(urgency="特急", now=NOW)["total"] == 1
    assert store.queue(department="供水公司", now=NOW)["total"] == 0


def test_concurrent_claims_never_give_one_case_to_two_people(store):
    for number in range(3):
        make(store, text=f"待认领的第{number}件事", decision="auto")
    claimed, barrier = [], threading.Barrier(5)

    def claim(actor):
        barrier.wait()
        case = store.claim_next(actor)
        claimed.append(case["case_id"] if case else None)
    threads = [threading.Thread(target=claim, args=(f"dispatcher-{n}",)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = [case_id for case_id in claimed if case_id is not None]
    assert len(got) == 3 and len(set(got)) == 3 and claimed.count(None) == 2


def test_feedback_and_rerouting_become_labels_for_retraining(store):
    first = make(store, text="楼上漏水把我家天花板泡了", decision="auto")
    store.feedback(first["case_id"], "派单员-李四", {"category": "城乡建设", "department": "住房和城乡建设局"})
    store.act(first["case_id"], "reassign", "派单员-李四", reason="物业维修", department="住房和城乡建设局")
    second = make(store, text="井盖丢了很危险", decision="auto")
    store.act(second["case_id"], "return", "城管", reason="非本单位")
    confirmed = store.feedback(make(store, text="确认无误的一件事")["case_id"], "派单员-李四",
                               {"department": "城市管理和综合执法局"})
    assert confirmed["agrees_with_model"] is True
    rows = {row["case_id"]: row for row in store.export_labels()}
    assert rows[first["case_id"]]["department"] == "住房和城乡建设局"
    assert rows[first["case_id"]]["sources"] == "feedback+reassign"
    assert rows[second["case_id"]]["department"] is None
    assert rows[second["case_id"]]["rejected_department"] == "城市管理和综合执法局"
    assert rows[first["case_id"]]["text"] == "楼上漏水把我家天花板泡了"


def test_a_dispatcher_raising_the_urgency_moves_the_case_at_once(store):
    """The model said 一般; the dispatcher, reading the transcript, says 特急: the case takes
    特急's deadlines from when it was received (already overdue three hours on), goes to the
    head of the queue, and the audit trail says who changed what. A corrected category drops
    the old category's subcategory. The department stays until a reassign moves it."""
    calm = make(store, text="楼顶上有个人坐在边上好久了", urgency="一般")
    make(store, text="路灯坏了一个月没人修", urgency="紧急")
    assert [case["case_id"] for case in store.queue(now=NOW)["items"]][-1] == calm["case_id"]
    later = NOW + timedelta(hours=3)
    store.feedback(calm["case_id"], "派单员-李四", {"urgency": "特急", "category": "政法",
                                                  "department": "公安局"}, now=later)
    case = store.get(calm["case_id"], later)
    assert (case["urgency"], case["category"], case["subcategory"]) == ("特急", "政法", None)
    assert case["deadlines"]["respond_by"] == utc_iso(NOW + timedelta(hours=2))
    assert case["overdue"] is True and case["stage"] == "overdue"
    assert case["department"] == calm["department"] and case["status"] == calm["status"]
    assert store.queue(now=later)["items"][0]["case_id"] == calm["case_id"]
    event = case["events"][-1]
    assert (event["action"], event["actor"], event["from_status"], event["to_status"]) == (
        "correct", "派单员-李四", calm["status"], calm["status"])
    assert "紧急程度 一般 → 特急" in event["reason"] and "类别 城乡建设 → 政法" in event["reason"]
    events = len(case["events"])
    store.feedback(calm["case_id"], "派单员-李四", {"urgency": "特急"}, now=later)  # a confirmation
    assert len(store.get(calm["case_id"], later)["events"]) == events


def test_every_open_status_can_be_escalated_and_only_resolve_closes():
    assert set(lifecycle.ACTIONS["escalate"][0]) == set(lifecycle.OPEN_STATUSES)
    assert [target for _, target in lifecycle.ACTIONS.values()].count("resolved") == 1


def test_an_unreachable_database_is_a_store_error_not_a_crash():
    from triage.errors import StoreError
    from triage.store import CaseStore, open_engine

    store = CaseStore(open_engine("postgresql://nobody@127.0.0.1:1/none"), load_settings(environ={}))
    with pytest.raises(StoreError, match="cannot be reached"):
        store.get(1)
    with pytest.raises(StoreError):
        store.ping()


def test_a_schema_lost_or_stepped_back_behind_the_store_is_a_store_error(store):
    """A database restored from an older backup, or dropped and created again, behind a
    running service: readiness says which revision it found, and requests get StoreError
    (HTTP 503, naming the cause) instead of a database error (500)."""
    from alembic import command

    from triage.errors import StoreError
    from triage.store.database import _alembic_config

    make(store)
    store.ping()
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with pytest.raises(StoreError, match=f"at revision 0003, this triage needs {HEAD_REVISION}"):
        store.ping()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.exec_driver_sql("DROP TABLE alembic_version")
    with pytest.raises(StoreError, match="lost its schema.*alembic_version.*restart triage"):
        store.ping()
    with pytest.raises(StoreError, match="lost its schema.*cases.*restart triage"):
        make(store, external_id="after-the-loss")
    with pytest.raises(StoreError, match="lost its schema"):
        store.get(1)
    assert migrate(store.engine) == HEAD_REVISION  # what a restart does
    store.ping()
    assert make(store, external_id="after-the-restart")["case_id"] == 1


def test_imported_history_is_found_by_caller_key_within_the_window(store):
    from triage.identity import caller_keys

    keys = caller_keys({"phone": "13812345678"}, "secret")
    records = [{"text": f"第{n}次反映路灯不亮", "received_at": NOW - timedelta(days=n * 40), "caller_keys": keys,
                "status": "resolved" if n else "assigned"} for n in range(4)]
    records.append({"text": "别人的事", "received_at": NOW, "caller_keys": caller_keys({"phone": "13900000000"}, "secret")})
    assert store.import_history(records, now=NOW) == 5
    found = store.prior_cases(keys, NOW + timedelta(hours=1), window_days=90)
    assert [case["text"] for case in found] == ["第0次反映路灯不亮", "第1次反映路灯不亮", "第2次反映路灯不亮"]
    assert found[0]["status"] == "assigned" and found[0]["shared"] == ["phone"]
    assert store.prior_cases(caller_keys({"phone": "13812345678"}, "other secret"), NOW, 90) == []
    imported = store.get(found[0]["case_id"])
    assert [event["action"] for event in imported["events"]] == ["import"] and imported["status"] == "assigned"
    case, created = store.create({"text": "新来电：路灯还是不亮"}, result())  # ids go on after the imported ones
    assert created and case["case_id"] > max(entry["case_id"] for entry in found)


def test_imported_and_created_cases_store_times_alike(store):
    """The bulk import writes rows by its own path (COPY, or one executemany on SQLite):
    a time must be stored exactly as an ordinary case stores it, or range queries on
    received_at would compare two formats."""
    from sqlalchemy import text

    store.import_history([{"text": "路灯不亮", "received_at": NOW, "caller_keys": [("phone", "k")]}], now=NOW)
    store.create({"text": "路灯还是不亮", "received_at": NOW}, result(), now=NOW)
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT DISTINCT received_at FROM cases")).scalars().all()
        keys = connection.execute(text("SELECT DISTINCT received_at FROM caller_keys")).scalars().all()
    assert len(stored) == 1 and keys == stored


def test_json_columns_hold_chinese_as_it_is_and_read_back_exactly(store):
    """A case's result, caller and location are written by ``jsontext`` (orjson: Chinese as
    UTF-8, not \\u escapes, at half the bytes) and read back equal, an integer beyond
    64 bits included (the standard library writes that one), by both intake paths."""
    from sqlalchemy import text

    location = {"grid": 2 ** 70, "address": "幸福路12号"}
    created, _ = store.create({"text": "燃气味很浓", "location": location}, result(text="燃气味很浓"), now=NOW)
    store.import_history([{"text": "路灯不亮", "received_at": NOW, "caller_keys": [], "category": "城乡建设"}], now=NOW)
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT CAST(result AS TEXT), CAST(location AS TEXT) FROM cases "
                                         "ORDER BY id")).all()
    assert "燃气味很浓" in stored[0][0] and "\\u" not in stored[0][0] and "幸福路" in stored[0][1]
    assert store.get(created["case_id"])["location"] == location
    assert [row[0] for row in stored[1:]] == ['{"imported":true}']


def sketched(store, text, phone, received_at=NOW, model="m-test"):
    """A case with a hot-issue sketch (its bytes only need to be told apart here)."""
    keys = [("phone", f"key-{phone}")]
    case, _ = store.create({"text": text, "received_at": received_at}, result(text=text), now=NOW, keys=keys,
                           hot={"sketch": text.encode("utf-8"), "sketch_model": model, "group_id": None})
    return case["case_id"]


def candidates(store, phone, model="m-test", since=NOW - timedelta(days=7)):
    found = store.hot_candidates("城乡建设", since, [("phone", f"key-{phone}")], model)
    return [candidate["case_id"] for candidate in found]


def test_reads_and_intake_on_postgresql_are_one_statement_and_other_writes_keep_a_transaction(store):
    """On PostgreSQL a read is one round trip (autocommit: its statements see committed
    data as they would at READ COMMITTED inside a transaction), and so is storing a new case
    with its events and caller keys (one statement, a transaction of its own); a state
    change, which locks and reads before it writes, keeps BEGIN/COMMIT."""
    from sqlalchemy import event

    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads keep their transaction: it gives them one snapshot")
    seen = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _record(connection, _cursor, statement, *_):
        seen.append((statement.split()[0], connection.connection.dbapi_connection.autocommit))

    case, _ = store.create({"text": "路灯坏了"}, result(text="路灯坏了"), now=NOW, keys=[("phone", "key-1")],
                           escalate="重复反映")
    assert seen == [("WITH", True)]
    store.get(case["case_id"])
    store.queue()
    store.act(case["case_id"], "claim", "区城管-张三", now=NOW)
    event.remove(store.engine, "before_cursor_execute", _record)
    assert {mode for verb, mode in seen if verb == "UPDATE"} == {False}
    assert {mode for verb, mode in seen if verb == "SELECT"} == {True, False}  # the claim's locking read: False


def test_postgresql_connections_are_replaced_as_the_case_ids_double(store, monkeypatch):
    """PostgreSQL keeps a prepared statement's generic plan until the tables' statistics
    change, which without autovacuum they never do: a plan made on a nearly empty ``cases``
    (a sequential scan) would serve it at any size. So a store replaces its process's
    connections, which then plan afresh, when the ids pass ``REPLAN_FROM_ID`` and each time
    they double after that, by intake and by history import alike."""
    from triage.store import CaseStore
    from triage.store import cases as store_module

    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans each statement as it is prepared, from the table as it is then")
    monkeypatch.setattr(store_module, "REPLAN_FROM_ID", 3)
    growing = CaseStore(store.engine, store.settings)

    def session() -> int:
        with store.engine.connect() as connection:
            return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    sessions = [session()]
    for number in range(1, 13):
        assert make(growing, f"路灯坏了第{number}天")["case_id"] == number
        sessions.append(session())
    growing.import_history([{"text": f"路灯坏了第{number}天", "received_at": NOW} for number in range(13, 33)])
    sessions.append(session())
    replaced_after = [case_id for case_id in range(1, 14) if sessions[case_id] != sessions[case_id - 1]]
    assert replaced_after == [3, 6, 12, 13]  # 13: the import, whose newest id is 32 (past 24)


def test_an_escalated_grouped_case_with_caller_keys_is_stored_whole(store):
    """Everything of one intake lands together: the case escalated, both its events, each
    caller key, its features row, and the hot-issue group named after its first case (on
    PostgreSQL one statement, on SQLite one transaction)."""
    first = sketched(store, "路灯坏了", "1")
    keys = [("phone", "key-2"), ("id_number", "key-3")]
    row = b"\x00\x01\x02\x03\xff" * 8
    case, created = store.create({"text": "路灯又坏了", "received_at": NOW}, result(text="路灯又坏了"), now=NOW, keys=keys,
                                 hot={"sketch": b"s", "sketch_model": "m-test", "group_id": first}, escalate="重复反映",
                                 features=row)
    stored = store.get(case["case_id"])
    assert created and stored["status"] == "escalated" and stored["escalations"] == 1
    assert [event["action"] for event in stored["events"]] == ["create", "escalate"]
    assert stored["events"][1]["reason"] == "重复反映"
    for kind, key in keys:
        priors = store.prior_cases([(kind, key)], NOW, 1)
        assert [(prior["case_id"], prior["features"], prior["model_version"]) for prior in priors] == [
            (case["case_id"], row, stored["model_version"])]
    assert store.hot_group(first) == (2, {"case_id": first, "received_at": utc_iso(NOW), "status": "new"})


def join_group(store, group, text):
    case, _ = store.create({"text": text, "received_at": NOW}, result(text=text), now=NOW,
                           hot={"sketch": text.encode("utf-8"), "sketch_model": "m-test", "group_id": group})
    return case["case_id"]


def test_a_groups_size_is_counted_as_members_join_even_at_once(store):
    """The group's first case keeps the count (one row to read however large the group):
    0 while it is alone, then every member, joined one by one or by several workers at once."""
    first = sketched(store, "水管爆了", "1")
    assert store.hot_group(first)[0] == 0
    join_group(store, first, "水管爆了，街上全是水")
    assert store.hot_group(first)[0] == 2
    threads = [threading.Thread(target=join_group, args=(store, first, f"水管爆了第{number}处")) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [listed] = store.hot_issues()
    assert store.hot_group(first)[0] == listed["size"] == 10


def test_an_upgraded_database_counts_its_groups_existing_members(store):
    """Migration 0005 fills in the size of every group stored before it, which later
    members then add to."""
    from alembic import command

    from triage.store.database import _alembic_config

    first, other = sketched(store, "水管爆了", "1"), sketched(store, "路灯坏了", "2")
    for number in range(3):
        join_group(store, first, f"水管爆了第{number}处")
    join_group(store, other, "路灯也坏了")
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert migrate(store.engine) == HEAD_REVISION
    assert [store.hot_group(group)[0] for group in (first, other)] == [4, 2]
    join_group(store, other, "路灯又坏了")
    assert store.hot_group(other)[0] == 3


def test_hot_candidates_see_every_workers_new_cases_but_not_the_callers_own(store):
    from triage.store import CaseStore

    other_worker = CaseStore(store.engine, store.settings)  # its own in-process cache, one database
    first = sketched(store, "路灯坏了", "1")
    assert candidates(store, "2") == [first]  # loads the category
    second = sketched(other_worker, "路灯又坏了", "2")
    third = sketched(other_worker, "小区路灯全坏", "3", received_at=NOW + timedelta(hours=1))
    old = sketched(other_worker, "路灯坏了很久", "4", received_at=NOW - timedelta(days=30))
    assert candidates(store, "2") == [third, first]  # newest first; caller 2's own case and the old one left out
    assert candidates(store, "9", since=NOW - timedelta(days=60)) == [third, second, first, old]
    assert candidates(store, "2", model="m-other") == []  # sketches of another model are not comparable


def test_a_worker_far_behind_starts_again_from_the_newest_cases(store):
    """More new cases than one refresh reads (another worker busy while this one idled):
    the cache starts over from each category's newest instead of missing the latest."""
    from triage.store import CaseStore
    from triage.store.recent import REFRESH_LIMIT

    other_worker = CaseStore(store.engine, store.settings)
    first = sketched(store, "路灯坏了", "1")
    assert candidates(store, "0") == [first]
    made = [sketched(other_worker, f"路灯坏了第{number}天", f"p{number}", received_at=NOW + timedelta(minutes=number))
            for number in range(REFRESH_LIMIT + 5)]
    assert candidates(store, "0", since=NOW - timedelta(days=1)) == list(reversed(made))[:hot_issues.CANDIDATES]
    assert store._recent.highest_id == made[-1] and not store._recent.holes


def test_hot_candidates_read_past_many_holes_and_keep_looking_in_them(store):
    """Ids that never became a case (retried submissions burn them on PostgreSQL; here
    cases deleted) stay holes for the worker to look in on every request."""
    from sqlalchemy import delete

    from triage.store import CaseStore
    from triage.store.schema import caller_keys, case_events, cases

    other_worker = CaseStore(store.engine, store.settings)
    first = sketched(store, "路灯坏了", "1")
    assert candidates(store, "0") == [first]
    made = [sketched(other_worker, f"路灯坏了第{number}天", f"p{number}") for number in range(60)]
    # the last stays: SQLite would give its id to the next case
    gone, kept = [case for case in made[:-1] if case % 4], [case for case in made if not case % 4 or case == made[-1]]
    with store.engine.begin() as connection:
        for table, column in ((caller_keys, caller_keys.c.case_id), (case_events, case_events.c.case_id),
                              (cases, cases.c.id)):
            connection.execute(delete(table).where(column.in_(gone)))
    latest = sketched(other_worker, "小区路灯全坏", "q")
    found = candidates(store, "0", since=NOW - timedelta(days=1))
    assert found[:1] == [latest] and set(found) <= {latest, first, *kept} and not set(found) & set(gone)
    assert set(gone) <= store._recent.holes  # the deleted ids, all below the highest seen
    newest = sketched(other_worker, "路灯还是坏的", "r")
    assert candidates(store, "0", since=NOW - timedelta(days=1))[:2] == [newest, latest]
    assert set(gone) <= store._recent.holes  # still looked in


def test_unreadable_cases_and_other_models_count_as_seen_not_as_holes(store):
    from triage.store import CaseStore

    other_worker = CaseStore(store.engine, store.settings)
    first = sketched(store, "路灯坏了", "1")
    assert candidates(store, "0") == [first]
    unreadable, _ = other_worker.create({"text": "锟斤拷锟斤拷"}, {**result(), "status": "unreadable", "category": None})
    other_model = sketched(other_worker, "路灯又坏了", "2", model="m-other")
    latest = sketched(other_worker, "小区路灯全坏", "3")
    assert candidates(store, "0") == [latest, first]
    assert store._recent.highest_id == latest > other_model > unreadable["case_id"] and not store._recent.holes


def test_recent_sketches_pick_up_a_late_commit_below_the_highest_id():
    from triage.store.recent import RecentSketches, Sketched

    def row(case_id, hours=0):
        return Sketched(case_id, "城乡建设", NOW + timedelta(hours=hours), None, b"", frozenset({f"k{case_id}"}))

    recent = RecentSketches(keep=3)
    recent.reset("m", 0)
    recent.load("城乡建设", [])
    recent.refresh([row(1), row(2), row(4)])  # 3 took its id first but has not committed yet
    assert recent.holes == {3}
    recent.refresh([row(3), row(5, hours=-1)])
    assert recent.holes == set()
    assert [found.case_id for found in recent.candidates("城乡建设", NOW - timedelta(days=1), frozenset(), 10)] == [4, 3, 2]


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 6), st.sampled_from(["a", "b", "c"])), max_size=60),
       st.integers(0, 6), st.sampled_from([frozenset(), frozenset({"a"}), frozenset({"b", "c"})]), st.integers(1, 8))
def test_recent_sketches_keep_and_list_the_newest_as_a_plain_sort_does(cases, since_day, own_keys, limit):
    """The kept rows and the candidates equal those of the plain method: every row kept by
    id (a re-read row replaces its copy), the oldest dropped past ``keep``, candidates
    filtered then sorted newest first (ties: the later id)."""
    from triage.store.recent import RecentSketches, Sketched

    recent, plain, keep = RecentSketches(keep=5), {}, 5
    recent.load("路灯", [])
    for case_id, day, key in cases:
        row = Sketched(case_id, "路灯", NOW + timedelta(days=day), None, b"", frozenset({key}))
        recent.refresh([row])
        plain[case_id] = row
        if len(plain) > keep:
            del plain[min(plain.values(), key=lambda kept: (kept.received_at, kept.case_id)).case_id]
    since = NOW + timedelta(days=since_day)
    expected = sorted((row for row in plain.values() if row.received_at >= since and not own_keys & row.keys),
                      key=lambda row: (row.received_at, row.case_id), reverse=True)[:limit]
    assert recent.candidates("路灯", since, own_keys, limit) == expected


def test_sqlite_commits_are_on_disk_before_the_answer(tmp_path):
    """WAL for concurrent readers and FULL sync: a case acknowledged with 201 survives a
    power cut, not only a process crash (NORMAL would have risked the last ones)."""
    from triage.store.database import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
