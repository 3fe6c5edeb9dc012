"""The handling queue over HTTP: read cases, list the queue, move cases through their
lifecycle, and record dispatchers' corrections."""
from __future__ import annotations

from flask import Blueprint, request

from .. import lifecycle, taxonomy
from ..store.cases import QUEUE_ORDERS
from ..errors import InputError
from . import parsing
from .auth import holds
from .context import access, context

blueprint = Blueprint("cases", __name__)


@blueprint.get("/v1/cases/<int:case_id>")
@access("api")
def get_case(case_id: int):
    """The case and its audit trail; callers' numbers in clear only for ``clear_text_tokens``."""
    ctx = context()
    return ctx.store.get(case_id, clear_caller=holds(ctx.settings["clear_text_tokens"]))


@blueprint.get("/v1/queue")
@access("api")
def queue():
    """Open cases, most urgent first and then by response deadline (``order=deadline``:
    earliest deadline first); paginated."""
    args = request.args
    unknown = set(args) - {"department", "urgency", "status", "overdue", "order", "limit", "offset"}
    if unknown:
        raise InputError(f"unknown query parameters {sorted(unknown)}; known: department, urgency, status, "
                         "overdue, order, limit, offset", field=sorted(unknown)[0])
    return context().store.queue(
        department=parsing.query_text("department"),
        urgency=parsing.choice(args, "urgency", taxonomy.URGENCY_LEVELS),
        status=parsing.choice(args, "status", lifecycle.STATUSES),
        overdue=parsing.query_bool("overdue"),
        order=parsing.choice(args, "order", QUEUE_ORDERS) or "urgency",
        limit=parsing.query_int("limit", 50, 1, 500),
        offset=parsing.query_int("offset", 0, 0, 10_000_000))


@blueprint.get("/v1/hot-issues")
@access("api")
def hot_issues():
    """Hot-issue groups (多人反映), largest first."""
    args = request.args
    unknown = set(args) - {"since", "min_size", "limit"}
    if unknown:
        raise InputError(f"unknown query parameters {sorted(unknown)}; known: since, min_size, limit",
                         field=sorted(unknown)[0])
    since = parsing.timestamp(args["since"], "since") if "since" in args else None
    groups = context().store.hot_issues(since=since, min_size=parsing.query_int("min_size", 2, 2, 100_000),
                                        limit=parsing.query_int("limit", 50, 1, 500))
    return {"groups": groups}


@blueprint.post("/v1/queue/claim")
@access("api")
def claim_next():
    """Claim the most urgent claimable case (of ``department``); 404 when none is waiting."""
    body = parsing.json_object()
    actor = parsing.text_field(body, "actor", required=True, limit=128)
    department = _department(body, required=False)
    case = context().store.claim_next(actor, department=department)
    if case is None:
        return {"error": {"code": "queue_empty", "message": "no case is waiting"
                          + (f" for {department}" if department else "")}}, 404
    return case


@blueprint.post("/v1/cases/<int:case_id>/<any(" + ",".join(lifecycle.ACTIONS) + "):action>")
@access("api")
def act(case_id: int, action: str):
    """claim, assign, resolve, return (退单, needs a reason), reassign (改派, needs a
    department and a reason) or escalate (needs a reason)."""
    body = parsing.json_object()
    return context().store.act(
        case_id, action, parsing.text_field(body, "actor", required=True, limit=128),
        reason=parsing.text_field(body, "reason"),
        department=_department(body, required=action in lifecycle.NEEDS_DEPARTMENT))


@blueprint.post("/v1/cases/<int:case_id>/feedback")
@access("api")
def feedback(case_id: int):
    """A dispatcher confirms or corrects the case's labels; kept for retraining."""
    ctx = context()
    body = parsing.json_object()
    actor = parsing.text_field(body, "actor", required=True, limit=128)
    labels = ctx.slot.model.labels_
    corrections = {}
    for head in ("category", "department", "urgency", "request_type"):
        if body.get(head) is not None:
            corrections[head] = parsing.choice(body, head, taxonomy.allowed(head, labels))
    if body.get("subcategory") is not None:
        category = corrections.get("category") or ctx.store.get(case_id)["category"]
        children = taxonomy.category_tree().get(category, ())
        corrections["subcategory"] = parsing.choice(body, "subcategory", children) if children else \
            parsing.text_field(body, "subcategory", limit=64)
    if not corrections:
        raise InputError("give at least one of category, subcategory, department, urgency, request_type",
                         field="body")
    return ctx.store.feedback(case_id, actor, corrections), 201


def _department(body, required: bool) -> str | None:
    if body.get("department") is None and not required:
        return None
    if body.get("department") is None:
        raise InputError("missing 'department': the unit to send the case to", field="department")
    return parsing.choice(body, "department", taxonomy.allowed("department", context().slot.model.labels_))
