"""The OpenAPI 3.1 description of every route. Written by hand to say what the code does;
``tests/test_service.py`` fails when a route is missing here or documented but absent."""
from __future__ import annotations

from functools import lru_cache

from .. import __version__, lifecycle, taxonomy
from .parsing import CALLER_FIELDS, CHANNELS


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _body(schema_name: str) -> dict:
    return {"required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _operation(summary: str, responses: dict, *, secured: bool = True, body: str | None = None,
               parameters: list | None = None) -> dict:
    operation = {"summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = _body(body)
        operation["responses"] = {**responses, "400": _error("malformed JSON, wrong types or missing fields"),
                                  "413": _error("body over max_body_bytes")}
    if parameters:
        operation["parameters"] = parameters
    if secured:
        operation["security"] = [{"bearer": []}]
        operation["responses"] = {**operation["responses"], "401": _error("no or wrong bearer token")}
    return operation


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_STRING = {"type": "string"}
_CASE_RESPONSES = {"200": _json("Case", "the case after the action"), "404": _error("no such case"),
                   "409": _error("the case's state does not allow this action")}


@lru_cache(maxsize=1)
def spec() -> dict:
    departments = sorted(taxonomy.departments())
    schemas = {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": _STRING, "message": _STRING, "field": _STRING}}}},
        "Submission": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "minLength": 1, "description": "the complaint, up to max_chars characters"},
            "external_id": {"type": "string", "pattern": r"^[\w.:/\-]{1,128}$",
                            "description": "the caller system's id; resubmitting it returns the same case"},
            "channel": {"enum": list(CHANNELS)},
            "received_at": {"type": "string", "format": "date-time",
                            "description": "ISO 8601; without an offset, China Standard Time"},
            "caller": {"type": "object", "additionalProperties": False,
                       "properties": {name: {"type": "string", "maxLength": 200} for name in CALLER_FIELDS}},
            "location": {"oneOf": [{"type": "string"}, {"type": "object"}]}}},
        "Batch": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Submission"}},
            "dry_run": {"type": "boolean"}}},
        "TriageResult": {"type": "object", "required": ["status", "decision", "model_version"], "properties": {
            "status": {"enum": ["ok", "unreadable"]}, "decision": {"enum": ["auto", "suggest", "review"]},
            "category": {"type": ["object", "null"]}, "department": {"type": ["object", "null"]},
            "urgency": {"type": ["object", "null"]}, "request_type": {"type": ["object", "null"]},
            "explanation": {"type": "array", "items": _STRING}, "flags": {"type": "array"},
            "personal_data": {"type": "array", "items": _STRING}, "text": _STRING, "model_version": _STRING,
            "case_id": {"type": "integer"}, "queue": {"type": "object"},
            "repeat": {"type": "object", "description": "is_repeat, score, reasons, prior_cases, "
                                                        "caller_case_count, window_days, escalate"}}},
        "Case": {"type": "object", "required": ["case_id", "status"], "properties": {
            "case_id": {"type": "integer"}, "status": {"enum": list(lifecycle.STATUSES)},
            "department": {"type": ["string", "null"]}, "urgency": _STRING, "deadlines": {"type": "object"},
            "stage": {"enum": ["on_time", "overdue", "escalated", "meeting"]}, "events": {"type": "array"}}},
        "Action": {"type": "object", "required": ["actor"], "properties": {
            "actor": {"type": "string", "minLength": 1, "maxLength": 128}, "reason": _STRING,
            "department": {"enum": departments}}},
        "Feedback": {"type": "object", "required": ["actor"], "properties": {
            "actor": {"type": "string", "minLength": 1, "maxLength": 128},
            "category": {"enum": sorted(taxonomy.category_tree())}, "subcategory": _STRING,
            "department": {"enum": departments}, "urgency": {"enum": list(taxonomy.URGENCY_LEVELS)},
            "request_type": {"enum": list(taxonomy.REQUEST_TYPES)}}},
    }
    dry_run = _query("dry_run", {"type": "boolean"}, "predict only; store nothing")
    paths = {
        "/v1/predict": {"post": _operation("Triage one text; nothing stored.", {
            "200": _json("TriageResult", "the engine's answer")}, secured=False, body="Submission")},
        "/v1/triage": {"post": _operation("Triage one complaint into the handling queue.", {
            "201": _json("TriageResult", "a new case"), "200": _json("TriageResult", "a known external_id"),
            "409": _error("external_id already used for another text")}, body="Submission",
            parameters=[dry_run])},
        "/v1/triage/batch": {"post": _operation("Triage up to batch_limit complaints, each on its own.", {
            "200": {"description": "one entry per item, an error entry for a bad one"}},
            body="Batch", parameters=[dry_run])},
        "/v1/cases/{case_id}": {"get": _operation("A case with its audit trail.", {
            "200": _json("Case", "the case"), "404": _error("no such case")}, parameters=[_CASE_ID])},
        "/v1/queue": {"get": _operation("Open cases by urgency, then deadline; paginated.", {
            "200": {"description": "items, total, limit, offset, next_offset"}}, parameters=[
            _query("department", _STRING, "only this department's cases"),
            _query("urgency", {"enum": list(taxonomy.URGENCY_LEVELS)}, "only this urgency"),
            _query("status", {"enum": list(lifecycle.STATUSES)}, "only this status (default: every open one)"),
            _query("overdue", {"type": "boolean"}, "only cases past (true) or within (false) their deadline"),
            _query("order", {"enum": ["urgency", "deadline"]}, "urgency then deadline (default), or earliest "
                   "deadline first: overdue, then about to breach"),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size, default 50"),
            _query("offset", {"type": "integer", "minimum": 0}, "items to skip")])},
        "/v1/hot-issues": {"get": _operation("Hot-issue groups (多人反映), largest first.", {
            "200": {"description": "groups: group_id, size, open, first_at, latest_at, category, department, text"}},
            parameters=[_query("since", _STRING, "only cases received at or after this ISO 8601 time"),
                        _query("min_size", {"type": "integer", "minimum": 2}, "smallest group listed, default 2"),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 50")])},
        "/v1/queue/claim": {"post": _operation("Claim the most urgent waiting case.", {
            "200": _json("Case", "the claimed case"), "404": _error("no case waiting")}, body="Action")},
        "/v1/cases/{case_id}/feedback": {"post": _operation(
            "Confirm or correct a case's labels (kept for retraining); a corrected category or "
            "urgency also applies to the case (urgency resets its deadlines), recorded as a "
            "'correct' event. The department moves by assign or reassign.", {
                "201": {"description": "the stored label"}, "404": _error("no such case")},
            body="Feedback", parameters=[_CASE_ID])},
        "/v1/model": {"get": _operation("The model card.", {"200": {"description": "version, labels, metrics, "
                                                                                 "thresholds and the centre's floors "
                                                                                 "over them (auto_min_confidence), "
                                                                                 "trained-at, and the safety rules "
                                                                                 "in force"}},
                                        secured=False)},
        "/v1/admin/reload": {"post": {**_operation("Load the model again and swap it in if it verifies.", {
            "200": {"description": "the new model card"}, "500": _error("the new model was refused; the old "
                                                                         "one still serves")}),
            "security": [{"admin": []}]}},
        "/healthz": {"get": _operation("The process is up.", {"200": {"description": "ok"}}, secured=False)},
        "/readyz": {"get": _operation("Model loaded and store reachable at the schema revision this triage needs.", {
            "200": {"description": "ready"}, "503": {"description": "not ready"}}, secured=False)},
        "/metrics": {"get": _operation("Prometheus metrics.", {"200": {"description": "text format"}},
                                       secured=False)},
        "/openapi.json": {"get": _operation("This document.", {"200": {"description": "OpenAPI 3.1"}},
                                            secured=False)},
        "/": {"get": _operation("Redirects to the dispatcher console.", {"302": {"description": "to /console"}},
                                secured=False)},
        "/console": {"get": _operation("The dispatcher console (HTML; its data comes from this API with the "
                                       "dispatcher's token).", {"200": {"description": "text/html"}}, secured=False)},
        "/console/{name}": {"get": _operation("The console's script and style.", {
            "200": {"description": "text/javascript or text/css"}, "404": {"description": "no such file"}},
            secured=False, parameters=[{"name": "name", "in": "path", "required": True,
                                        "schema": {"enum": ["console.js", "console.css"]}}])},
    }
    for action in lifecycle.ACTIONS:
        paths[f"/v1/cases/{{case_id}}/{action}"] = {"post": _operation(
            f"{action} the case" + (" (needs a department)" if action in lifecycle.NEEDS_DEPARTMENT else "")
            + (" (needs a reason)" if action in lifecycle.NEEDS_REASON else ""),
            _CASE_RESPONSES, body="Action", parameters=[_CASE_ID])}
    return {"openapi": "3.1.0",
            "info": {"title": "triage", "version": __version__,
                     "description": "Routes citizen complaints to a category, department and urgency, and keeps "
                                    "the handling queue."},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "TRIAGE_API_TOKENS"},
                "admin": {"type": "http", "scheme": "bearer", "description": "TRIAGE_ADMIN_TOKENS"}}}}
