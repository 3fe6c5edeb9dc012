"""Who is calling, without keeping who is calling: caller details normalised and turned
into keyed hashes (HMAC-SHA256 with a secret from configuration).

The same phone number written as ``+86 138-1234-5678``, ``１３８１２３４５６７８`` or
``13812345678`` gives one key; without the secret a key cannot be turned back into a
number, and with another secret it matches nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from typing import Any, Mapping

from .settings import PROJECT_ROOT

_PHONE_PREFIX = re.compile(r"^(?:\+?86|0086)(?=1[3-9]\d{9}$)")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalise_phone(value: str) -> str | None:
    """Digits of a mobile or landline number without country prefix, or None when it is
    not a plausible number."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    digits = _PHONE_PREFIX.sub("", digits)
    return digits if re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}|\d{7,8}", digits) else None


def normalise_id_number(value: str) -> str | None:
    """An 18-character resident ID number in upper case, or None."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()
    return text if re.fullmatch(r"\d{17}[\dX]", text) else None


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


def caller_keys(caller: Mapping[str, str] | None, secret: str) -> list[tuple[str, str]]:
    """``(kind, key)`` for each usable identifier of ``caller`` (phone, id_number)."""
    if not caller:
        return []
    keys = []
    for kind, normalise in (("phone", normalise_phone), ("id_number", normalise_id_number)):
        value = caller.get(kind)
        normalised = normalise(value) if isinstance(value, str) else None
        if normalised:
            digest = hmac.new(secret.encode("utf-8"), f"{kind}:{normalised}".encode("utf-8"), hashlib.sha256)
            keys.append((kind, digest.hexdigest()))
    return keys


def masked_caller(caller: Mapping[str, str] | None) -> dict | None:
    """Caller details as a list shows them: 138****5678, 110************1234."""
    if not caller:
        return None
    masked = dict(caller)
    for name in ("phone", "id_number"):
        value = masked.get(name)
        if isinstance(value, str) and len(value) > 7:
            masked[name] = value[:3] + "*" * (len(value) - 7) + value[-4:]
    return masked


def caller_column_key(value: str, secret: str) -> tuple[str, str] | None:
    """``(kind, key)`` for one caller cell of a batch file: a phone number, else an ID
    number, else the cell itself as an account name (message boards give user ids)."""
    value = value.strip()
    if not value:
        return None
    keys = caller_keys({"phone": value, "id_number": value}, secret)
    if keys:
        return keys[0]
    digest = hmac.new(secret.encode("utf-8"), f"account:{value}".encode("utf-8"), hashlib.sha256)
    return "account", digest.hexdigest()
