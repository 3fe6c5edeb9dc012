"""Running the service: health, readiness, metrics, the model card, hot reload, and the
OpenAPI description."""
from __future__ import annotations

from flask import Blueprint, Response, request

from ..errors import StoreError, TriageError
from . import parsing
from .context import access, context
from .openapi import spec

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
@access("health")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blueprint.get("/readyz")
@access("health")
def readyz():
    """The model is loaded and the case store answers; 503 otherwise."""
    ctx = context()
    checks = {"model": ctx.slot.metadata["version"]}
    try:
        ctx.store.ping()
        checks["store"] = "ok"
    except StoreError as error:
        return {"status": "unavailable", "checks": {**checks, "store": error.message}}, 503
    return {"status": "ready", "checks": checks}


@blueprint.get("/metrics")
@access("metrics")
def metrics():
    return Response(context().metrics.exposition(), mimetype="text/plain; version=0.0.4")


@blueprint.get("/v1/model")
@access("predict")
def model_card():
    # the centre's floors over the model's auto thresholds (setting auto_min_confidence) beside them
    return {**context().slot.card(), "auto_min_confidence": context().settings["auto_min_confidence"]}


@blueprint.post("/v1/admin/reload")
@access("admin")
def reload():
    """Load the model folder again (or ``model_dir`` from the body) and swap it in when it
    verifies; on failure the old model keeps serving and the answer says why."""
    ctx = context()
    body = parsing.json_object() if request.get_data(cache=True).strip() else {}
    folder = parsing.text_field(body, "model_dir", limit=1000)
    try:
        card = ctx.slot.reload(folder)
    except TriageError as error:
        ctx.logger.warning("model reload refused", extra={"reason": error.message})
        still = ctx.slot.metadata["version"]
        raise type(error)(f"{error.message} (still serving {still})") from None
    ctx.logger.info("model reloaded", extra={"model_version": card["version"]})
    return card


@blueprint.get("/openapi.json")
@access("open")
def openapi():
    return spec()
