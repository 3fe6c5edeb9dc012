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

from .normalise import normalise
from .settings import PROJECT_ROOT

_PHONE_PREFIX = re.compile(r"^(?:\+?86|0086)(?=1[3-9]\d{9}$)")
_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE_LIST = re.compile(r"[/／,，;；、]|\s{2,}|或")
_PUNCTUATION = re.compile(r"[\W_]+")


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
    """``(kind, key)`` for each usable identifier of ``caller``.

    Kinds: ``id_number``; ``phone`` (the caller gave one number) or ``phones`` (one of
    several, as in ``13812345678 / 0731-84123456``); and ``name_address``, one key per
    character trigram of the normalised address, each keyed together with the name, so
    a similar address of the same name shares most of them (``link`` scores it).
    """
    if not caller:
        return []
    keys = []
    phone = caller.get("phone")
    numbers = [number for number in map(normalise_phone, _PHONE_LIST.split(phone)) if number] \
        if isinstance(phone, str) else []
    for number in dict.fromkeys(numbers):
        keys.append(("phone" if len(numbers) == 1 else "phones", _key(secret, "phone", number)))
    id_number = caller.get("id_number")
    normalised = normalise_id_number(id_number) if isinstance(id_number, str) else None
    if normalised:
        keys.append(("id_number", _key(secret, "id_number", normalised)))
    name, address = caller.get("name"), caller.get("address")
    if isinstance(name, str) and isinstance(address, str):
        name, address = _compact(name), _compact(address)
        if name and len(address) >= 3:
            trigrams = dict.fromkeys(address[index:index + 3] for index in range(len(address) - 2))
            keys.extend(("name_address", _key(secret, "name_address", f"{name}|{trigram}")) for trigram in trigrams)
    return keys


def link(ours: list[tuple[str, str]], shared: Mapping[str, int]) -> dict | None:
    """How surely an earlier case is the same person, from the kinds of key it shares
    (``shared``: kind -> how many of its keys matched ours): ``{"score", "basis"}`` with
    a Chinese basis for the dispatcher, or None when the evidence is too thin.
    Exact identifiers score 1; one of several numbers 0.8; the same name at a similar
    address 0.5-0.9 by the share of address trigrams in common (at least half)."""
    if shared.get("id_number"):
        return {"score": 1.0, "basis": "同一身份证号"}
    ours_by_kind = {kind for kind, _ in ours}
    if shared.get("phone") and "phone" in ours_by_kind:
        return {"score": 1.0, "basis": "同一来电号码"}
    if shared.get("phone") or shared.get("phones"):
        return {"score": 0.8, "basis": "共用其中一个联系电话，疑似同一来电人"}
    if shared.get("account"):
        return {"score": 1.0, "basis": "同一账号"}
    trigrams = sum(kind == "name_address" for kind, _ in ours)
    if shared.get("name_address") and trigrams:
        overlap = shared["name_address"] / trigrams
        if overlap >= 0.5:
            return {"score": round(0.5 + 0.4 * overlap, 2), "basis": "姓名相同、地址相近，疑似同一来电人"}
    return None


def _key(secret: str, kind: str, value: str) -> str:
    return hmac.new(secret.encode("utf-8"), f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()


def _compact(value: str) -> str:
    """Name or address without spaces and punctuation, half-width, simplified."""
    return _PUNCTUATION.sub("", normalise(value)).lower()


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
    return "account", _key(secret, "account", value)
