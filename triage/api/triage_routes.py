"""Triage over HTTP: predict only, triage into the queue, and batches of either."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint

from .. import hot_issues, repeat
from ..errors import InputError, TriageError
from ..identity import caller_keys
from ..model import TriageModel
from ..store import utc_now
from . import parsing
from .context import access, context

blueprint = Blueprint("triage", __name__)


@blueprint.post("/v1/predict")
@access("predict")
def predict():
    """The engine's answer for one text; nothing is stored."""
    item = parsing.submission(parsing.json_object(), context().settings["max_chars"])
    return _predict([item], rows=False)[0][0]


@blueprint.post("/v1/triage")
@access("api")
def triage():
    """Triage one complaint and put it in the handling queue (``?dry_run=1``: predict only)."""
    item = parsing.submission(parsing.json_object(), context().settings["max_chars"])
    (result,), (row,), model = _predict([item])
    if parsing.query_bool("dry_run"):
        return result
    answer, created = _store(item, result, row, model)
    return answer, 201 if created else 200


@blueprint.post("/v1/triage/batch")
@access("api")
def triage_batch():
    """Up to ``batch_limit`` complaints, each judged on its own: a bad item gets an error
    entry in its place and the others still go through."""
    ctx = context()
    body = parsing.json_object(checked_apart="items")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise InputError("'items' must be a non-empty array of complaints like {\"text\": \"...\"}", field="items")
    if len(items) > ctx.settings["batch_limit"]:
        raise InputError(f"'items' has {len(items)} entries; the limit is {ctx.settings['batch_limit']} "
                         "(setting batch_limit)", field="items")
    dry_run = bool(body.get("dry_run")) or bool(parsing.query_bool("dry_run"))
    answers: list[dict | None] = [None] * len(items)
    valid = []
    for index, raw in enumerate(items):
        try:
            if not isinstance(raw, dict):
                raise InputError("each item must be an object like {\"text\": \"...\"}", field=f"items[{index}]")
            valid.append((index, parsing.submission(raw, ctx.settings["max_chars"], prefix=f"items[{index}].")))
        except InputError as error:
            answers[index] = {"index": index, "status": "error", **error.to_dict()}
    results, rows, model = _predict([item for _, item in valid]) if valid else ([], [], None)
    for (index, item), result, row in zip(valid, results, rows):
        if dry_run:
            answers[index] = {"index": index, **result}
            continue
        try:
            answer, created = _store(item, result, row, model)
            answers[index] = {"index": index, "created": created, **answer}
        except TriageError as error:  # e.g. an external_id reused for another text
            answers[index] = {"index": index, "status": "error", **error.to_dict()}
    failed = sum(1 for answer in answers if answer.get("status") == "error")
    return {"items": answers, "succeeded": len(items) - failed, "failed": failed}


def _predict(items: list[dict], rows: bool = True) -> tuple[list[dict], list, TriageModel]:
    """Results, each text's feature row (for hot issues; ``rows=False``: None) and the model
    that made them: one model for the whole request, even if a reload swaps the slot meanwhile."""
    ctx = context()
    model = ctx.slot.model
    results, rows = model.predict_with_features([item["text"] for item in items], ctx.settings, rows)
    ctx.metrics.observe_results(results)
    return results, rows, model


def _store(item: dict, result: dict, row, model: TriageModel) -> tuple[dict, bool]:
    """Store the case; a caller's earlier case on the same matter makes it a repeat, and
    one still open escalates the new case; other callers' recent cases on the same matter
    make it part of a hot issue."""
    ctx = context()
    keys = caller_keys(item.get("caller"), ctx.caller_secret)
    received_at = item.get("received_at") or utc_now()
    priors = repeat.linked(keys, ctx.store.prior_cases(keys, received_at, ctx.settings["repeat_window_days"]))
    result = {**result, "repeat": repeat.judge(model, result["text"], row, priors, ctx.settings, bool(keys),
                                               ctx.prior_rows)}
    result, hot = _hot_issue(result, row, model, keys, received_at)
    escalate = "；".join(result["repeat"]["reasons"]) if result["repeat"]["escalate"] else None
    # A case with a caller can be someone's earlier case: its row goes with it, so that their
    # next call need not featurise it again. The row is of the masked text: it is the
    # stored text's only when that is masked.
    features = (repeat.pack_row(*row) if keys and row is not None and ctx.settings["mask_personal_data"]
                else None)
    case, created = ctx.store.create({**item, "received_at": received_at}, result, keys=keys, hot=hot,
                                     escalate=escalate, features=features)
    queue = {name: case[name] for name in ("status", "department", "urgency", "deadlines", "stage", "overdue")}
    triage_result = result if created else case["triage"]
    return {**triage_result, "case_id": case["case_id"], "external_id": case["external_id"],
            "queue": queue}, created


def _hot_issue(result: dict, row, model: TriageModel, keys, received_at) -> tuple[dict, dict | None]:
    """The result with its ``hot_issue`` part (and urgency raised for a large group), and
    what the store keeps for later cases to be compared with."""
    ctx = context()
    category = (result.get("category") or {}).get("label")
    if result["status"] != "ok" or not category or row is None:
        return {**result, "hot_issue": hot_issues.answer(None, 1, None, ctx.settings)}, None
    sketch = hot_issues.sketch(*row)
    since = received_at - timedelta(days=ctx.settings["hot_issue_window_days"])
    candidates = ctx.store.hot_candidates(category, since, keys, model.version_)
    found = hot_issues.match(sketch, candidates, model.featuriser_.body_columns, ctx.settings)
    size, first = ctx.store.hot_group(found["group_id"]) if found else (0, None)
    size = max(size, 1) + 1 if found else 1  # the first case, not yet marked, and this one
    answer = hot_issues.answer(found, size, first, ctx.settings)
    if hot_issues.raises_urgency(size, result["urgency"]["label"], ctx.settings):
        reason = answer["reasons"][0]
        result = {**result, "urgency": {**result["urgency"], "label": "紧急", "source": "hot_issue", "band": "auto"},
                  "explanation": result["explanation"] + [reason]}
    return ({**result, "hot_issue": answer},
            {"sketch": sketch, "sketch_model": model.version_, "group_id": found and found["group_id"]})
