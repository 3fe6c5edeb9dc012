"""Bearer tokens. Tokens come from settings (``api_tokens``, ``api_tokens_file``,
``admin_tokens``); each request's token is compared with every accepted one in constant
time, so the answer's timing says nothing about how much of a token was right."""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import request

from ..errors import AuthError, SettingError
from ..settings import PROJECT_ROOT


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


def caller_secret(settings: Mapping[str, Any]) -> str:
    """The HMAC secret for caller keys: the setting, else ``var/caller_secret`` (made once,
    readable by its owner only). It must outlive restarts, or earlier callers are lost."""
    if settings["caller_secret"]:
        return settings["caller_secret"]
    path = PROJECT_ROOT / "var" / "caller_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def require(accepted: Iterable[str]) -> None:
    """Raises AuthError unless the request carries ``Authorization: Bearer <accepted token>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise AuthError("this endpoint needs 'Authorization: Bearer <token>' (tokens: TRIAGE_API_TOKENS)")
    given_bytes = given.strip().encode("utf-8")
    matched = False
    for token in accepted:  # no early exit: every token is compared
        matched |= hmac.compare_digest(given_bytes, token.encode("utf-8"))
    if not matched:
        raise AuthError("the bearer token is not accepted")
