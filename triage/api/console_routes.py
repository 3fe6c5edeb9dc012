"""The dispatcher console: one page and its script and style, served from the package.

The page holds no data: everything it shows comes from the API with the dispatcher's
bearer token, so nothing of the queue is visible without one. A strict Content Security
Policy keeps it to this server (no CDNs, fonts or inline scripts), as a closed network needs.
"""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort, redirect

from .context import access

blueprint = Blueprint("console", __name__)
FILES = {"index.html": "text/html", "console.js": "text/javascript", "console.css": "text/css"}
POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"


@blueprint.get("/")
@access("open")
def root():
    return redirect("/console")


@blueprint.get("/console")
@access("open")
def page():
    return _file("index.html")


@blueprint.get("/console/<name>")
@access("open")
def asset(name: str):
    if name not in FILES or name == "index.html":
        abort(404)
    return _file(name)


def _file(name: str) -> Response:
    body = resources.files("triage.resources").joinpath("console", name).read_bytes()
    response = Response(body, mimetype=FILES[name])
    response.charset = "utf-8"
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-cache"  # a new release's script is picked up at once
    return response
