"""The HTTP service: ``create_app(config=None)`` builds the Flask app.

Configuration is layered: defaults < ``TRIAGE_*`` environment < ``config`` (lower-case keys
are triage settings, see ``triage/settings.py``; upper-case keys go to Flask's config).
The model is loaded and the case store migrated here, once, before any request (and,
under ``gunicorn --preload``, before the workers fork).

    flask --app service run                      # local, or: triage serve
    gunicorn -c gunicorn.conf.py 'service:create_app()'   # production (README)
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from triage import jsontext
from triage.api import case_routes, console_routes, logs, ops_routes, triage_routes
from triage.api.auth import api_tokens, require
from triage.api.context import Context
from triage.api.metrics import Metrics
from triage.api.model_slot import ModelSlot
from triage.errors import SettingError, TriageError
from triage.identity import caller_secret
from triage.registry import served_folder
from triage.segment import use_engine, warm_up
from triage.settings import load_settings
from triage.store import CaseStore, migrate, open_engine

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON, encoded by orjson (``triage.jsontext``): the same compact UTF-8 in
    insertion order as the default with ``ensure_ascii`` and ``sort_keys`` off, in a tenth
    of the time (a triage result: 39 -> 3 us). Types neither encoder knows go to Flask's own
    ``default``."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self._encode(obj).decode("utf-8")

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self._encode(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        return jsontext.encode(obj, default=self.default)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The triage service.

    Raises:
        SettingError: a setting has a bad value.
        ModelError: the model cannot be loaded or verified.
        StoreError: the case store cannot be reached or migrated.
    """
    config = dict(config or {})
    app = Flask(__name__)
    app.config.update({key: value for key, value in config.items() if key.isupper()})
    settings = load_settings({key: value for key, value in config.items() if not key.isupper()})
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body_bytes"]
    app.json = OrjsonProvider(app)

    use_engine(settings["segmenter"])
    warm_up()
    engine = open_engine(settings["database_url"])
    migrate(engine)
    store = CaseStore(engine, settings)
    tokens = api_tokens(settings)
    strangers = set(settings["clear_text_tokens"]) - set(tokens)
    if strangers:
        raise SettingError(f"{len(strangers)} of clear_text_tokens are not API tokens; list each also in "
                           "TRIAGE_API_TOKENS (clear text is a right of some API users, not a separate login)")
    app.extensions["triage"] = Context(
        settings=settings, slot=ModelSlot(lambda: served_folder(settings)), store=store, metrics=Metrics(store.depth),
        logger=logs.configure(), tokens=tokens, admin_tokens=tuple(settings["admin_tokens"]),
        caller_secret=caller_secret(settings))
    for module in (triage_routes, case_routes, ops_routes, console_routes):
        app.register_blueprint(module.blueprint)
    _install_hooks(app)
    return app


def _install_hooks(app: Flask) -> None:
    ctx: Context = app.extensions["triage"]

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        logs.assign_request_id()
        view = app.view_functions.get(request.endpoint)
        level = getattr(view, "access", "open") if view else "open"
        if level == "admin":
            require(ctx.admin_tokens)
        elif level == "api" or (level in ("predict", "health", "metrics") and not ctx.settings[f"open_{level}"]):
            require(ctx.tokens)

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        ctx.metrics.observe_request(endpoint, request.method, response.status_code, seconds)
        if response.status_code >= 400 or not app.config.get("QUIET_ACCESS_LOG"):
            ctx.logger.info("request", extra={"method": request.method, "path": request.path,
                                              "status": response.status_code,
                                              "duration_ms": round(seconds * 1000, 2)})
        return response

    @app.errorhandler(TriageError)
    def _triage_error(error: TriageError):
        return error.to_dict(), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = _HTTP_CODES.get(error.code, "http_error")
        message = error.description or error.name
        if error.code == 413:
            message = f"the request body is over {ctx.settings['max_body_bytes']} bytes (setting max_body_bytes)"
        return {"error": {"code": code, "message": message}}, error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        ctx.logger.exception("unexpected error")
        return {"error": {"code": "internal_error",
                          "message": f"triage failed unexpectedly; quote request id {g.get('request_id')} "
                                     "when reporting it"}}, 500
