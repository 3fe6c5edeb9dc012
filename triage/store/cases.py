"""The handling queue: cases created from triage results, moved through the lifecycle
with an audit trail, listed by urgency and deadline, and labelled by dispatchers.

``CaseStore`` is the only code that writes the tables. Every method runs in one
transaction; state changes lock the case row first (``SELECT ... FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two dispatchers never both claim a case.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy import JSON, Engine, and_, any_, bindparam, func, insert, literal_column, select, union_all, update
from sqlalchemy import case as when_then
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from .. import hot_issues, jsontext, lifecycle, sla
from ..errors import CaseNotFoundError, InputError, StoreError, TransitionError
from ..identity import masked_caller
from ..sla import utc_iso, utc_now
from .database import HEAD_REVISION, revision
from .recent import REFRESH_LIMIT, RecentSketches, Sketched
from .schema import caller_keys, case_events, cases, labels

LARGEST_ID = 2**31 - 1  # an Integer column on every database
# On PostgreSQL, a process's connections are replaced when the case ids pass this and each
# time they double after that (``CaseStore._plan_again_as_cases_grow``).
REPLAN_FROM_ID = 1000
QUEUE_ORDERS = {"urgency": (cases.c.urgency_rank, cases.c.respond_by),
                "deadline": (cases.c.respond_by, cases.c.urgency_rank)}
LABEL_FIELDS = ("category", "subcategory", "department", "urgency", "request_type")
SYSTEM_ACTOR = "triage"

# What reading a case needs: every column but those kept for comparing it with later
# cases (its sketch and feature row, a few KB a case that no view shows).
_VIEWED = tuple(column for column in cases.c if column.name not in ("sketch", "sketch_model", "features"))

# Statements of the intake path, built once: building a statement per request (values(),
# where(), in_()) cost SQLAlchemy more CPU than the database took to run it.
_INSERT_CASE = insert(cases).returning(cases.c.id)
_INSERT_EVENT = insert(case_events)
_INSERT_KEYS = insert(caller_keys)
# A case joining a group: the group's first case names the group (itself included) and
# counts the new member, so that reading a group's size is one row, however large it grows.
_JOIN_GROUP = (update(cases).where(cases.c.id == bindparam("group"))
               .values(hot_group=bindparam("group"), hot_group_size=func.coalesce(cases.c.hot_group_size, 1) + 1))
_PRIOR_CASES = (select(cases.c.id, cases.c.text, cases.c.status, cases.c.received_at, cases.c.channel,
                       cases.c.category, cases.c.model_version, cases.c.features, caller_keys.c.kind)
                .join(caller_keys, caller_keys.c.case_id == cases.c.id)
                .where(caller_keys.c.key.in_(bindparam("keys", expanding=True)),
                       caller_keys.c.received_at >= bindparam("since"),
                       caller_keys.c.received_at <= bindparam("until"))
                .order_by(cases.c.received_at.desc()))
_GROUP_FIRST = select(cases.c.id, cases.c.received_at, cases.c.status, cases.c.hot_group_size).where(
    cases.c.id == bindparam("group"))
_HIGHEST_ID = select(func.max(cases.c.id))
_SKETCHED = select(cases.c.id, cases.c.category, cases.c.received_at, cases.c.hot_group, cases.c.sketch,
                   cases.c.sketch_model, caller_keys.c.key).select_from(
    cases.outerjoin(caller_keys, caller_keys.c.case_id == cases.c.id))


def _sketched_since(dialect: str):
    """The cases stored since a worker's last look: the next REFRESH_LIMIT ids in order, and
    the ``holes``. Every case comes back, of any model or none, so that it counts as seen.
    Each part must be an index range or lookup whatever statistics the planner has, or
    PostgreSQL scans whole tables on every request while they are small or new: the one
    condition ``id > :after OR id IN :holes`` did (autovacuum off, or soon after a bulk
    import), and so did a LIMIT of 1,000 (a literal LIMIT of 100 keeps the index scan: 0.2
    against 4.7 ms at 4,000 cases). Joining ``caller_keys`` to the newer cases by a subquery
    let it plan for 100 of them against a few thousand rows and hash whole tables (1.1 ms at
    1,300 cases, growing with them, in a benchmark's fresh database): so the newer cases
    are read first, by the primary key, and their keys fetched by ``case_id = ANY(ARRAY(...))``,
    which it always reads through the index (0.1-0.4 ms). SQLite, whose planner does not
    hash tables, takes the plain ``IN``."""
    newer = (select(cases.c.id, cases.c.category, cases.c.received_at, cases.c.hot_group, cases.c.sketch,
                    cases.c.sketch_model).where(cases.c.id > bindparam("after"))
             .order_by(cases.c.id).limit(literal_column(str(REFRESH_LIMIT))).cte("newer").prefix_with("MATERIALIZED"))
    newer_ids = select(newer.c.id)
    of_newer = (caller_keys.c.case_id == any_(func.array(newer_ids.scalar_subquery())) if dialect == "postgresql"
                else caller_keys.c.case_id.in_(newer_ids))
    keys = select(caller_keys.c.case_id, caller_keys.c.key).where(of_newer).subquery("keys")
    return union_all(select(*newer.c, keys.c.key).select_from(newer.outerjoin(keys, keys.c.case_id == newer.c.id)),
                     _SKETCHED.where(cases.c.id.in_(bindparam("holes", expanding=True))))


_SKETCHED_LATEST = _SKETCHED.where(cases.c.id.in_(
    select(cases.c.id).where(cases.c.category == bindparam("category"), cases.c.sketch_model == bindparam("model"))
    .order_by(cases.c.received_at.desc(), cases.c.id.desc()).limit(bindparam("keep"))))


class CaseStore:
    """Cases in the database behind ``engine``; ``settings`` gives the SLA hours."""

    def __init__(self, engine: Engine, settings: Mapping[str, Any]):
        self.engine = engine
        self.settings = settings
        self._recent = RecentSketches(keep=2 * hot_issues.CANDIDATES)
        self._sketched_since = _sketched_since(engine.dialect.name)
        self._replan_at = REPLAN_FROM_ID if engine.dialect.name == "postgresql" else LARGEST_ID + 1

    # -- intake -------------------------------------------------------------------
    def create(self, submission: Mapping[str, Any], result: Mapping[str, Any],
               now: datetime | None = None, keys: Sequence[tuple[str, str]] = (),
               hot: Mapping[str, Any] | None = None, escalate: str | None = None,
               features: bytes | None = None) -> tuple[dict, bool]:
        """Store the case for ``submission`` (text, external_id, channel, received_at, caller,
        location) triaged as ``result``, with the caller's ``keys`` (``identity.caller_keys``),
        its hot-issue ``sketch``, ``sketch_model`` and ``group_id`` (``hot_issues.py``) and
        the TF-IDF row of its stored text (``repeat.pack_row``) as ``features``.
        ``escalate``: the reason to escalate the new case at once (a repeat of an open case),
        in the same transaction, so that no case is ever stored without its escalation.
        Returns ``(case, created)``: a known ``external_id`` returns the existing case and
        ``created=False``.

        Raises:
            TransitionError: the ``external_id`` is already used for a different text.
        """
        now = now or utc_now()
        external_id = submission.get("external_id")
        received_at = submission.get("received_at") or now
        department = (result.get("department") or {}).get("label")
        automatic = result.get("decision") == "auto" and department is not None
        status = "assigned" if automatic else "new"
        row = self._new_row(
            submission["text"], result["text"], received_at, now, external_id=external_id,
            channel=submission.get("channel"), urgency=(result.get("urgency") or {}).get("label"),
            status=status, department=department, decision=result["decision"], result=dict(result),
            model_version=result["model_version"], category=(result.get("category") or {}).get("label"),
            subcategory=(result.get("category") or {}).get("subcategory"),
            caller=submission.get("caller") if self.settings["keep_caller_contact"]
            else masked_caller(submission.get("caller")),
            location=submission.get("location"))
        if hot:
            row.update(sketch=hot["sketch"], sketch_model=hot["sketch_model"], hot_group=hot.get("group_id"))
        row["features"] = features
        text_sha256 = row["text_sha256"]
        events = [{"at": now, "actor": SYSTEM_ACTOR, "action": "assign" if automatic else "create",
                   "from_status": None, "to_status": status, "department": department,
                   "reason": "auto-routed: every routing head in the auto band" if automatic else None}]
        if escalate:
            row.update(status=lifecycle.next_status(status, "escalate"), escalations=1)
            events.append({"at": now, "actor": SYSTEM_ACTOR, "action": "escalate", "from_status": status,
                           "to_status": row["status"], "department": department, "reason": escalate})
        key_rows = [{"kind": kind, "key": key, "received_at": received_at} for kind, key in keys]
        try:
            if self.engine.dialect.name == "postgresql":
                with self._begin(single_statement=True) as connection:
                    row["id"] = connection.execute(*_one_statement_intake(row, events, key_rows)).scalar_one()
            else:
                with self._begin() as connection:
                    row["id"] = connection.execute(_INSERT_CASE, row).scalar_one()
                    if row["hot_group"] is not None:
                        connection.execute(_JOIN_GROUP, {"group": row["hot_group"]})
                    connection.execute(_INSERT_EVENT, [{"case_id": row["id"], **event} for event in events])
                    if key_rows:
                        connection.execute(_INSERT_KEYS, [{"case_id": row["id"], **key} for key in key_rows])
        except IntegrityError:
            # The external_id is known (a retried submission, or a concurrent twin that won
            # the race): answer with that case, or refuse if the text differs.
            existing = self._by_external_id(external_id, text_sha256) if external_id is not None else None
            if existing is None:
                raise
            return existing, False
        self._plan_again_as_cases_grow(row["id"])
        return {**_case_view(row, now), "events": [_event_view(event) for event in events]}, True

    def import_history(self, records: Sequence[Mapping[str, Any]], now: datetime | None = None) -> int:
        """Bulk-load earlier cases (a centre's history) so that repeat lookups see them.

        Each record: ``text`` (masked), ``received_at``, ``caller_keys`` and optionally
        channel, category, department, urgency, status. One transaction; each case gets an
        ``import`` event. Returns the number of cases stored.
        """
        now = now or utc_now()
        rows = [self._new_row(record["text"], record["text"], record["received_at"], now,
                              external_id=record.get("external_id"), channel=record.get("channel"),
                              urgency=record.get("urgency"), status=record.get("status") or "resolved",
                              department=record.get("department"), decision="review", result={"imported": True},
                              model_version="history", category=record.get("category"))
                for record in records]
        if not rows:
            return 0
        with self._begin() as connection:
            if connection.dialect.name == "postgresql":
                ids = connection.exec_driver_sql(f"SELECT nextval(pg_get_serial_sequence('cases', 'id')) "
                                                 f"FROM generate_series(1, {len(rows)})").scalars().all()
            else:  # BEGIN IMMEDIATE holds the write lock: the ids after the largest are ours
                first = connection.execute(select(func.coalesce(func.max(cases.c.id), 0))).scalar_one() + 1
                ids = list(range(first, first + len(rows)))
            events = [{"case_id": case_id, "at": now, "actor": SYSTEM_ACTOR, "action": "import", "from_status": None,
                       "to_status": row["status"], "department": row["department"], "reason": "history import"}
                      for case_id, row in zip(ids, rows)]
            keys = [{"case_id": case_id, "kind": kind, "key": key, "received_at": record["received_at"]}
                    for case_id, record in zip(ids, records) for kind, key in record.get("caller_keys", ())]
            _bulk_insert(connection, cases, [{**row, "id": case_id} for case_id, row in zip(ids, rows)])
            for table, values in ((case_events, events), (caller_keys, keys)):
                if values:
                    _bulk_insert(connection, table, values)
        self._plan_again_as_cases_grow(max(ids))
        return len(ids)

    def _plan_again_as_cases_grow(self, newest_id: int) -> None:
        """Replace this process's PostgreSQL connections once the case ids reach
        ``REPLAN_FROM_ID``, and whenever they have doubled since.

        psycopg prepares a statement on its fifth run on a connection, and PostgreSQL then
        keeps the statement's generic plan until the tables' statistics change. Where
        autovacuum does not run (this machine's server) they never do: the plans made while
        ``cases`` held a few rows stay, and the hot-issue refresh read the whole table on
        every request, a cost growing with every case stored (bench/service_load.py on a new
        database, side by side: 408-506 stored requests/s before this, 502-595 with it). New
        connections plan for the table as it is now; the doubling keeps that to a dozen
        reconnections from a thousand cases to a million."""
        if newest_id >= self._replan_at:
            self._replan_at = 2 * newest_id
            self.engine.dispose()

    def _new_row(self, raw_text: str, stored_text: str, received_at: datetime, now: datetime, *,
                 external_id: str | None, channel: str | None, urgency: str | None, status: str,
                 department: str | None, decision: str, result: dict, model_version: str,
                 category: str | None, subcategory: str | None = None, caller: dict | None = None,
                 location: Any = None) -> dict:
        """A ``cases`` row, its deadlines set from its urgency (一般 when unknown)."""
        return {
            "external_id": external_id, "text_sha256": hashlib.sha256(raw_text.encode("utf-8")).hexdigest(),
            "channel": channel or "hotline", "received_at": received_at, "created_at": now, "updated_at": now,
            "text": stored_text, "caller": caller, "location": location, "result": result,
            "model_version": model_version, "category": category, "subcategory": subcategory,
            **self._urgency_columns(urgency or "一般", received_at), "decision": decision,
            "status": status, "department": department, "claimed_by": None, "escalations": 0,
            "resolved_at": None, "hot_group": None, "sketch": None, "sketch_model": None, "features": None,
        }

    def _urgency_columns(self, urgency: str, received_at: datetime) -> dict:
        """A case's urgency and the deadlines it sets, counted from when it was received."""
        due = sla.deadlines(urgency, received_at, self.settings)
        return {"urgency": urgency, "urgency_rank": sla.URGENCY_RANK.get(urgency, 2),
                "respond_by": due.respond_by, "escalate_at": due.escalate_at, "meeting_at": due.meeting_at}

    def _by_external_id(self, external_id: str, text_sha256: str) -> dict | None:
        with self._begin(read_only=True) as connection:
            row = connection.execute(select(*_VIEWED).where(cases.c.external_id == external_id)).mappings().first()
        if row is None:
            return None
        if row["text_sha256"] != text_sha256:
            raise TransitionError(f"external_id {external_id!r} already belongs to case {row['id']} with a "
                                  "different text; use a new external_id for a new complaint",
                                  field="external_id")
        return self.get(row["id"])

    # -- reading ------------------------------------------------------------------
    def get(self, case_id: int, now: datetime | None = None, clear_caller: bool = False) -> dict:
        """The case with its audit trail; the caller's numbers masked unless ``clear_caller``
        (they are stored in clear only with the setting ``keep_caller_contact``).

        Raises:
            CaseNotFoundError: no case ``case_id``.
        """
        with self._begin(read_only=True) as connection:
            row = _case_row(connection, case_id)
            events = connection.execute(select(case_events).where(case_events.c.case_id == case_id)
                                        .order_by(case_events.c.id)).mappings().all()
        case = _case_view(row, now or utc_now(), clear_caller=clear_caller)
        case["events"] = [_event_view(event) for event in events]
        return case

    def queue(self, *, department: str | None = None, urgency: str | None = None,
              status: str | None = None, overdue: bool | None = None, limit: int = 50, offset: int = 0,
              order: str = "urgency", now: datetime | None = None) -> dict:
        """Open cases (or those in ``status``), most urgent first, then by response deadline;
        ``order="deadline"``: the earliest response deadline first (overdue, then about to breach)."""
        now = now or utc_now()
        conditions = [cases.c.status == status] if status else [cases.c.status.in_(lifecycle.OPEN_STATUSES)]
        if department:
            conditions.append(cases.c.department == department)
        if urgency:
            conditions.append(cases.c.urgency == urgency)
        if overdue is True:
            conditions.append(and_(cases.c.respond_by <= now, cases.c.status != "resolved"))
        elif overdue is False:
            conditions.append(cases.c.respond_by > now)
        where = and_(*conditions)
        with self._begin(read_only=True) as connection:
            total = connection.execute(select(func.count()).select_from(cases).where(where)).scalar_one()
            rows = connection.execute(select(*_VIEWED).where(where)
                                      .order_by(*QUEUE_ORDERS[order], cases.c.id)
                                      .limit(limit).offset(offset)).mappings().all()
        items = [_case_view(row, now, summary=True) for row in rows]
        following = offset + len(items)
        return {"items": items, "total": total, "limit": limit, "offset": offset,
                "next_offset": following if following < total else None}

    def hot_candidates(self, category: str, since: datetime, keys: Sequence[tuple[str, str]],
                       model_version: str, limit: int = hot_issues.CANDIDATES) -> list[dict]:
        """The newest cases of ``category`` received since ``since`` with a sketch of
        ``model_version``, leaving out the caller's own (``keys``): those are repeats.
        Read through the worker's ``RecentSketches`` (``recent.py``)."""
        recent = self._recent
        with recent.lock, self._begin(read_only=True) as connection:
            stored = None if recent.model_version != model_version else _sketched(connection.execute(
                self._sketched_since, {"after": recent.highest_id, "holes": sorted(recent.holes)}),
                model_version)
            if stored is None or sum(row.case_id > recent.highest_id for row in stored) >= REFRESH_LIMIT:
                # A new model, or this worker is far behind (idle while others stored thousands):
                # start again from the newest cases instead of reading every one since.
                recent.reset(model_version, connection.execute(_HIGHEST_ID).scalar() or 0)
            else:
                recent.refresh(stored)
            if category not in recent.by_category:
                recent.load(category, _sketched(connection.execute(
                    _SKETCHED_LATEST, {"category": category, "model": model_version, "keep": recent.keep}), model_version))
            found = recent.candidates(category, since, frozenset(key for _, key in keys), limit)
        return [{"case_id": row.case_id, "hot_group": row.hot_group, "sketch": row.sketch} for row in found]

    def hot_group(self, group_id: int) -> tuple[int, dict | None]:
        """How many cases the group has (0 while its first case is alone) and its first case
        (case_id, received_at, status)."""
        with self._begin(read_only=True) as connection:
            first = connection.execute(_GROUP_FIRST, {"group": group_id}).first()
        if first is None:
            return 0, None
        return first.hot_group_size or 0, {"case_id": first.id, "received_at": utc_iso(first.received_at),
                                           "status": first.status}

    def hot_issues(self, *, since: datetime | None = None, min_size: int = 2, limit: int = 50) -> list[dict]:
        """Hot-issue groups, largest first: size, open cases, first and latest time, and the
        first case's category, department and text."""
        query = (select(cases.c.hot_group, func.count().label("size"),
                        func.sum(when_then((cases.c.status != "resolved", 1), else_=0)).label("open"),
                        func.min(cases.c.received_at).label("first_at"), func.max(cases.c.received_at).label("latest_at"))
                 .where(cases.c.hot_group.is_not(None)).group_by(cases.c.hot_group)
                 .having(func.count() >= min_size).order_by(func.count().desc(), func.max(cases.c.received_at).desc())
                 .limit(limit))
        if since is not None:
            query = query.where(cases.c.received_at >= since)
        with self._begin(read_only=True) as connection:
            groups = connection.execute(query).all()
            firsts = {row.id: row for row in connection.execute(
                select(cases.c.id, cases.c.category, cases.c.department, cases.c.text)
                .where(cases.c.id.in_([group.hot_group for group in groups])))}
        return [{"group_id": group.hot_group, "size": group.size, "open": int(group.open or 0),
                 "first_at": utc_iso(group.first_at), "latest_at": utc_iso(group.latest_at),
                 "category": firsts[group.hot_group].category, "department": firsts[group.hot_group].department,
                 "text": firsts[group.hot_group].text} for group in groups if group.hot_group in firsts]

    def prior_cases(self, keys: Sequence[tuple[str, str]], received_at: datetime, window_days: int) -> list[dict]:
        """The caller's cases received in the ``window_days`` before ``received_at``, newest
        first, each with the kinds of identifier it shares (``shared``), how many keys of
        each kind matched (``matches``; ``identity.link`` weighs them), and its stored
        feature row (``features``, None for imported history) with the ``model_version``
        that made it."""
        if not keys:
            return []
        parameters = {"keys": [key for _, key in keys], "until": received_at,
                      "since": received_at - timedelta(days=window_days)}
        found: dict[int, dict] = {}
        with self._begin(read_only=True) as connection:
            for row in connection.execute(_PRIOR_CASES, parameters).mappings():
                case = found.setdefault(row["id"], {**{k: row[k] for k in ("text", "status", "channel", "category",
                                                                           "model_version", "features")},
                                                    "case_id": row["id"], "received_at": row["received_at"],
                                                    "matches": {}})
                case["matches"][row["kind"]] = case["matches"].get(row["kind"], 0) + 1
        for case in found.values():
            case["shared"] = sorted(case["matches"])
        return list(found.values())

    def depth(self) -> list[tuple[str, str, int]]:
        """Open cases counted by (department, urgency), for the metrics endpoint."""
        with self._begin(read_only=True) as connection:
            rows = connection.execute(select(cases.c.department, cases.c.urgency, func.count())
                                      .where(cases.c.status.in_(lifecycle.OPEN_STATUSES))
                                      .group_by(cases.c.department, cases.c.urgency)).all()
        return [(department or "", urgency, count) for department, urgency, count in rows]

    def count(self) -> int:
        with self._begin(read_only=True) as connection:
            return connection.execute(select(func.count()).select_from(cases)).scalar_one()

    def ping(self) -> None:
        """Raises StoreError when the database cannot answer, or holds another schema than
        the one this triage migrated it to at start-up (a database restored from an older
        backup, or dropped and created again, behind a running service)."""
        with self._begin(read_only=True) as connection:
            found = revision(connection)
        if found != HEAD_REVISION:
            raise StoreError(f"the case store's schema is at revision {found}, this triage needs "
                             f"{HEAD_REVISION}: {_MIGRATE_HINT}")

    # -- handling -----------------------------------------------------------------
    def act(self, case_id: int, action: str, actor: str, *, reason: str | None = None,
            department: str | None = None, now: datetime | None = None) -> dict:
        """Apply ``action`` (see ``lifecycle.ACTIONS``) to the case, recording who and why.

        Raises:
            CaseNotFoundError: no case ``case_id``.
            TransitionError: the case's status does not allow ``action``.
        """
        now = now or utc_now()
        with self._begin() as connection:
            row = _case_row(connection, case_id, lock=True)
            self._apply(connection, row, action, actor, reason, department, now)
        return self.get(case_id, now)

    def claim_next(self, actor: str, *, department: str | None = None,
                   now: datetime | None = None) -> dict | None:
        """Claim the most urgent claimable case (of ``department``), or None when there is none.
        Concurrent callers skip rows another transaction holds (``SKIP LOCKED``)."""
        now = now or utc_now()
        claimable = ("new", "assigned", "reassigned", "escalated")
        query = select(*_VIEWED).where(cases.c.status.in_(claimable))
        if department:
            query = query.where(cases.c.department == department)
        query = (query.order_by(cases.c.urgency_rank, cases.c.respond_by, cases.c.id)
                 .limit(1).with_for_update(skip_locked=True))
        with self._begin() as connection:
            row = connection.execute(query).mappings().first()
            if row is None:
                return None
            self._apply(connection, row, "claim", actor, None, None, now)
        return self.get(row["id"], now)

    def _apply(self, connection, row, action, actor, reason, department, now) -> None:
        target = lifecycle.next_status(row["status"], action)
        if action in lifecycle.NEEDS_REASON and not reason:
            raise InputError(f"{action} needs a reason", field="reason")
        if action in lifecycle.NEEDS_DEPARTMENT and not department:
            raise InputError(f"{action} needs the department to send the case to", field="department")
        changes: dict[str, Any] = {"status": target, "updated_at": now}
        if action == "claim":
            changes["claimed_by"] = actor
        if action in lifecycle.NEEDS_DEPARTMENT:
            changes.update(department=department, claimed_by=None)
        if action == "escalate":
            changes["escalations"] = row["escalations"] + 1
        if action == "resolve":
            changes["resolved_at"] = now
        connection.execute(update(cases).where(cases.c.id == row["id"]).values(changes))
        connection.execute(insert(case_events).values(
            case_id=row["id"], at=now, actor=actor, action=action, from_status=row["status"],
            to_status=target, department=changes.get("department", row["department"]), reason=reason))
        # 退单 and 改派 are a person saying the routing was wrong: keep them for retraining.
        if action == "return":
            self._insert_label(connection, row, actor, "return", {}, now, rejected=row["department"])
        elif action == "reassign":
            self._insert_label(connection, row, actor, "reassign", {"department": department}, now,
                               rejected=row["department"])

    # -- labels for retraining ----------------------------------------------------
    def feedback(self, case_id: int, actor: str, corrections: Mapping[str, str],
                 now: datetime | None = None) -> dict:
        """Record a dispatcher's confirmation or correction of the case's labels, and make
        the case follow a corrected category and urgency: a case a dispatcher raises to 特急
        gets 特急's deadlines (counted from when it was received) and its place in the
        queue at once, with an event in its audit trail. The department moves only by
        assign or reassign (``act``), which the lifecycle governs.

        Raises:
            CaseNotFoundError: no case ``case_id``.
        """
        now = now or utc_now()
        with self._begin() as connection:
            row = _case_row(connection, case_id, lock=True)
            label = self._insert_label(connection, row, actor, "feedback", corrections, now)
            changes: dict[str, Any] = {}
            if corrections.get("category") not in (None, row["category"]):
                changes.update(category=corrections["category"], subcategory=None)  # the old one's child
            if corrections.get("subcategory") not in (None, row["subcategory"]):
                changes["subcategory"] = corrections["subcategory"]
            if corrections.get("urgency") not in (None, row["urgency"]):
                changes.update(self._urgency_columns(corrections["urgency"], row["received_at"]))
            if changes:
                said = [f"{title} {row[name] or '—'} → {changes[name] or '—'}"
                        for name, title in (("category", "类别"), ("subcategory", "子类"), ("urgency", "紧急程度"))
                        if name in changes and changes[name] != row[name]]
                connection.execute(update(cases).where(cases.c.id == row["id"]).values({**changes, "updated_at": now}))
                connection.execute(insert(case_events).values(
                    case_id=row["id"], at=now, actor=actor, action="correct", from_status=row["status"],
                    to_status=row["status"], department=row["department"], reason="调度员更正：" + "；".join(said)))
        return label

    def _insert_label(self, connection, row, actor, source, given, now, rejected=None) -> dict:
        predicted = _predicted_labels(row["result"])
        values = {name: given.get(name) for name in LABEL_FIELDS}
        agrees = rejected is None and all(value == predicted.get(name)
                                          for name, value in values.items() if value is not None)
        record = {"case_id": row["id"], "at": now, "actor": actor, "source": source,
                  "rejected_department": rejected, "agrees_with_model": agrees, **values}
        connection.execute(insert(labels).values(record))
        return {**record, "at": utc_iso(now), "predicted": predicted}

    def export_labels(self, since: datetime | None = None) -> Iterator[dict]:
        """One row per labelled case: its text and the latest human value of each label;
        every row is human-confirmed. Cases with only 退单 (no right answer yet) still give
        ``rejected_department``."""
        query = (select(labels, cases.c.text).join(cases, cases.c.id == labels.c.case_id)
                 .order_by(labels.c.case_id, labels.c.id))
        if since is not None:
            query = query.where(labels.c.at >= since)
        merged: dict[int, dict] = {}
        with self._begin(read_only=True) as connection:
            for label in connection.execute(query).mappings():
                row = merged.setdefault(label["case_id"], {"case_id": label["case_id"], "text": label["text"],
                                                           **{name: None for name in LABEL_FIELDS},
                                                           "rejected_department": None, "sources": []})
                for name in LABEL_FIELDS:
                    if label[name] is not None:
                        row[name] = label[name]
                if label["rejected_department"]:
                    row["rejected_department"] = label["rejected_department"]
                row["sources"].append(label["source"])
        for row in merged.values():
            row["sources"] = "+".join(dict.fromkeys(row["sources"]))
            yield row

    # -- plumbing -----------------------------------------------------------------
    def _begin(self, read_only: bool = False, single_statement: bool = False):
        return _Transaction(self.engine, read_only, single_statement)


class _Transaction:
    """``engine.begin()`` that turns a lost database into StoreError (HTTP 503).

    A read on PostgreSQL runs in autocommit: at PostgreSQL's READ COMMITTED each statement
    sees its own snapshot inside a transaction too, so BEGIN and COMMIT would only add two
    round trips. So does a write made of one statement (``single_statement``), which is a
    transaction of its own. SQLite keeps the transaction, whose reads share one snapshot."""

    def __init__(self, engine: Engine, read_only: bool, single_statement: bool = False):
        self.engine, self.read_only, self.single_statement = engine, read_only, single_statement

    def __enter__(self):
        options = {"read_only": self.read_only}
        if (self.read_only or self.single_statement) and self.engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        try:
            self.connection = self.engine.connect().execution_options(**options)
            self.transaction = self.connection.begin()
        except OperationalError as error:
            raise StoreError(f"the case store cannot be reached: {error.orig}") from None
        return self.connection

    def __exit__(self, kind, value, traceback):
        try:
            if kind is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        except OperationalError as error:
            raise StoreError(f"the case store failed: {error.orig}") from None
        finally:
            self.connection.close()
        if kind is not None and issubclass(kind, DBAPIError) and _schema_missing(value.orig):
            raise StoreError(f"the case store has lost its schema ({str(value.orig).splitlines()[0]}): "
                             f"{_MIGRATE_HINT}") from None
        if kind is not None and issubclass(kind, OperationalError):
            raise StoreError(f"the case store failed: {value.orig}") from None
        return False


_MIGRATE_HINT = "restart triage, which migrates the database to its schema at start-up"


def _schema_missing(error: BaseException) -> bool:
    """Whether a database error says a table or column of the schema is not there:
    PostgreSQL's SQLSTATE undefined_table / undefined_column, SQLite's message."""
    if getattr(error, "sqlstate", None) in {"42P01", "42703"}:
        return True
    return str(error).startswith(("no such table", "no such column"))


def _one_statement_intake(row: dict, events: list[dict], key_rows: list[dict]) -> tuple[Any, dict]:
    """A new case (``row``), its ``events`` and caller keys as one PostgreSQL statement and
    its parameters: the inserts in data-modifying WITH clauses (and the hot-issue group named
    after its first case). In autocommit that is one round trip and one transaction, where
    BEGIN, three INSERTs and COMMIT were five. Its result is the new case's id."""
    # no parameter is named as a column: SQLAlchemy would add each such one to the UPDATE's SET
    parameters = {f"case_{name}": value for name, value in row.items()}
    for number, event in enumerate(events):
        parameters.update((f"event{number}_{name}", value) for name, value in event.items())
    for number, key in enumerate(key_rows):
        parameters.update((f"key{number}_{name}", value) for name, value in key.items())
    grouped = row["hot_group"] is not None
    if grouped:
        parameters["group"] = row["hot_group"]  # _JOIN_GROUP's
    return _intake_statement(tuple(row), tuple(events[0]), len(events), len(key_rows), grouped), parameters


@lru_cache(maxsize=64)
def _intake_statement(case_columns: tuple[str, ...], event_columns: tuple[str, ...], event_count: int,
                      key_count: int, grouped: bool):
    """The statement of ``_one_statement_intake``, built once per shape: building it per
    request costs SQLAlchemy more than the database takes to run it."""
    def bound(table, name: str, prefix: str):
        return bindparam(prefix + name, type_=table.c[name].type)

    new_case = (insert(cases).values({name: bound(cases, name, "case_") for name in case_columns})
                .returning(cases.c.id).cte("new_case"))

    def rows_of_new_case(table, names: tuple[str, ...], prefix: str, count: int):
        """INSERT ... SELECT of ``count`` rows (not a multi-row VALUES: SQLAlchemy does not
        cache the compiled form of one, and compiling this statement costs milliseconds)."""
        rows = [select(new_case.c.id, *[bound(table, name, f"{prefix}{number}_") for name in names])
                for number in range(count)]
        return insert(table).from_select(["case_id", *names], rows[0] if count == 1 else union_all(*rows))

    parts = [rows_of_new_case(case_events, event_columns, "event", event_count).cte("new_events")]
    if key_count:
        parts.append(rows_of_new_case(caller_keys, ("kind", "key", "received_at"), "key", key_count).cte("new_keys"))
    if grouped:
        parts.append(_JOIN_GROUP.cte("joined_group"))
    return select(new_case.c.id).add_cte(*parts)


def _sketched(result, model: str) -> list[Sketched]:
    """Rows of ``_SKETCHED`` (a case once per caller key) as one ``Sketched`` per case; a
    case with no category (unreadable) or a sketch of another model than ``model`` gets
    category None: seen, never compared."""
    found: dict[int, tuple] = {}
    for case_id, category, received_at, group, sketch, sketch_model, key in result:
        if case_id not in found:
            comparable = sketch_model == model and category is not None
            found[case_id] = (category if comparable else None, received_at, group, sketch, set())
        if key is not None:
            found[case_id][4].add(key)
    return [Sketched(case_id, category, received_at, group, sketch, frozenset(keys))
            for case_id, (category, received_at, group, sketch, keys) in found.items()]


def _bulk_insert(connection, table, rows: list[dict]) -> None:
    """``rows`` (each with the same keys) into ``table`` inside the open transaction, by
    the fastest path of each database: PostgreSQL's COPY (psycopg); on SQLite one
    ``executemany`` of values converted by the columns' own SQLAlchemy bind processors,
    which SQLAlchemy's insert of many rows applied with three times the Python around them
    (history import of 100k cases: 2,845 -> 4,551 cases/s, bench/repeat_scale.py)."""
    columns = [column for column in table.columns if column.name in rows[0]]
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(column.name for column in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([jsontext.text(row[column.name])
                                if isinstance(column.type, JSON) and row[column.name] is not None
                                else row[column.name] for column in columns])
        return
    dialect = connection.dialect
    converters = [(column.name, column.type.dialect_impl(dialect).bind_processor(dialect)) for column in columns]
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(column.name for column in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        [tuple(row[name] if convert is None else convert(row[name]) for name, convert in converters)
         for row in rows])


def _case_row(connection, case_id: int, lock: bool = False):
    """The ``cases`` row ``case_id`` (locked for update with ``lock``).

    Raises:
        CaseNotFoundError: no such case, or an id no case can have.
    """
    if not 1 <= case_id <= LARGEST_ID:
        raise CaseNotFoundError(f"no case {case_id}: case ids run from 1 to {LARGEST_ID}", field="case_id")
    query = select(*_VIEWED).where(cases.c.id == case_id)
    row = connection.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise CaseNotFoundError(f"no case {case_id}", field="case_id")
    return row


def _predicted_labels(result: Mapping[str, Any]) -> dict:
    category = result.get("category") or {}
    return {"category": category.get("label"), "subcategory": category.get("subcategory"),
            "department": (result.get("department") or {}).get("label"),
            "urgency": (result.get("urgency") or {}).get("label"),
            "request_type": (result.get("request_type") or {}).get("label")}


def _case_view(row: Mapping[str, Any], now: datetime, summary: bool = False, clear_caller: bool = False) -> dict:
    due = sla.Deadlines(row["respond_by"], row["escalate_at"], row["meeting_at"])
    stage = sla.stage(due, now, resolved=row["status"] == "resolved")
    view = {
        "case_id": row["id"], "external_id": row["external_id"], "status": row["status"],
        "channel": row["channel"], "category": row["category"], "subcategory": row["subcategory"],
        "department": row["department"], "urgency": row["urgency"], "decision": row["decision"],
        "claimed_by": row["claimed_by"], "escalations": row["escalations"],
        "received_at": utc_iso(row["received_at"]), "updated_at": utc_iso(row["updated_at"]),
        "deadlines": {"respond_by": utc_iso(due.respond_by), "escalate_at": utc_iso(due.escalate_at),
                      "meeting_at": utc_iso(due.meeting_at)},
        "stage": stage, "stage_title": sla.STAGE_TITLES[stage],
        "overdue": row["status"] != "resolved" and now >= due.respond_by,
        "resolved_at": utc_iso(row["resolved_at"]), "text": row["text"], "hot_group": row["hot_group"],
    }
    if not summary:
        view.update(caller=row["caller"] if clear_caller else masked_caller(row["caller"]), location=row["location"], triage=row["result"],
                    model_version=row["model_version"], created_at=utc_iso(row["created_at"]))
    return view


def _event_view(event: Mapping[str, Any]) -> dict:
    return {"at": utc_iso(event["at"]), "actor": event["actor"], "action": event["action"],
            "from_status": event["from_status"], "to_status": event["to_status"],
            "department": event["department"], "reason": event["reason"]}
