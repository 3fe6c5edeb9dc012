"""Bearer tokens. Tokens come from settings (``api_tokens``, ``api_tokens_file``,
``admin_tokens``); each request's token is compared with every accepted one in constant
time, so the answer's timing says nothing about how much of a token was right."""
from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import request

from ..errors import AuthError, SettingError


def api_tokens(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """Tokens from ``api_tokens`` and the lines of ``api_tokens_file``."""
    tokens = list(settings["api_tokens"])
    if settings["api_tokens_file"]:
        path = Path(settings["api_tokens_file"])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise SettingError(f"TRIAGE_API_TOKENS_FILE={str(path)!r} cannot be read: {error.strerror}") from None
        tokens += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    short = [token for token in tokens if len(token) < 16]
    if short:
        raise SettingError(f"{len(short)} API token(s) are shorter than 16 characters; "
                           "make tokens with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return tuple(tokens)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def require(accepted: Iterable[str]) -> None:
    """Raises AuthError unless the request carries ``Authorization: Bearer <accepted token>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise AuthError("this endpoint needs 'Authorization: Bearer <token>' (tokens: TRIAGE_API_TOKENS)")
    if not holds(accepted):
        raise AuthError("the bearer token is not accepted")


def holds(accepted: Iterable[str]) -> bool:
    """Whether the request's bearer token is one of ``accepted``."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given_bytes = given.strip().encode("utf-8")
    matched = False
    for token in accepted:  # no early exit: every token is compared
        matched |= hmac.compare_digest(given_bytes, token.encode("utf-8"))
    return matched and scheme.lower() == "bearer"
