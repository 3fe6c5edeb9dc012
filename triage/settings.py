"""One table of settings: name, default, help. Read from ``TRIAGE_<NAME>`` environment
variables, overridable by a mapping (tests, the Flask config), validated at start-up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .errors import SettingError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any]


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of true/false/1/0/yes/no/on/off")


def _parse_positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


LONGEST_DAYS = 36_500  # a hundred years: a window or deadline beyond it is a slip, and leaves the calendar


def _parse_days(value: str) -> int:
    number = _parse_positive_int(value)
    if number > LONGEST_DAYS:
        raise ValueError(f"expected at most {LONGEST_DAYS} days")
    return number


def _parse_count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a whole number, 0 or more")
    return number


def _parse_share(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("expected a number above 0 and at most 1")
    return number


def _parse_fraction(value: str) -> float:
    number = float(value)
    if not 0 <= number < 1:
        raise ValueError("expected a number from 0 to below 1")
    return number


def _parse_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _parse_sla_hours(value: str) -> tuple[float, float, float]:
    """``respond,escalate,meeting`` in hours after a case is received, each later than the last."""
    hours = tuple(float(item) for item in value.split(","))
    if len(hours) != 3 or not 0 < hours[0] <= hours[1] <= hours[2] <= 24 * LONGEST_DAYS:
        raise ValueError("expected three rising numbers of hours: respond,escalate,meeting (e.g. 72,96,144), "
                         f"at most {24 * LONGEST_DAYS}")
    return hours


FLOORED_HEADS = ("category", "subcategory", "department", "request_type")


def _parse_floors(value: str) -> dict[str, float]:
    """``head=confidence`` pairs, comma-separated, for the heads in ``FLOORED_HEADS``: a plain
    dict, read only (the settings travel to batch workers, and a mapping proxy does not pickle)."""
    floors = {}
    for item in _parse_list(value):
        head, _, number = item.partition("=")
        head = head.strip()
        if head not in FLOORED_HEADS:
            raise ValueError(f"{head!r} is not a head whose auto band can be raised; expected "
                             f"head=confidence pairs for {', '.join(FLOORED_HEADS)} (e.g. department=0.999)")
        try:
            floors[head] = _parse_share(number)
        except ValueError:
            raise ValueError(f"{item!r}: expected {head}=a confidence above 0 and at most 1") from None
    return floors


def _parse_segmenter(value: str) -> str:
    if value not in {"auto", "rjieba", "jieba"}:
        raise ValueError("expected auto, rjieba or jieba")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("model_dir", "",
            "Folder of the model used when none is named; empty: the registry's champion "
            "(models/registry.json), else the bundled models/default.", str),
    Setting("registry_dir", str(PROJECT_ROOT / "models"),
            "Model registry: default/, versions/<version>/ and registry.json (triage models ...).", str),
    Setting("frozen_test_set", str(PROJECT_ROOT / "training" / "frozen_test.csv"),
            "Labelled file, never trained on, that scores every registered model and gates promotion.", str),
    Setting("promotion_margin", 0.02,
            "A challenger is refused if any class's F1 on the frozen test set falls by more than this.",
            _parse_share),
    Setting("mask_personal_data", True,
            "Mask phone, ID-card, bank-card and plate numbers in every text triage returns, "
            "stores or logs. Turn off only where the law and the centre allow clear text.",
            _parse_bool),
    Setting("min_chars", 6,
            "Texts with fewer Chinese characters than this are flagged too_short and sent to review.",
            _parse_positive_int),
    Setting("max_chars", 20000,
            "Longest text accepted, in characters; longer input is refused with a clear error.",
            _parse_positive_int),
    Setting("auto_min_confidence", {},
            "Per head, the lowest confidence at which its answer may be auto, above the model's own "
            "threshold (which it never lowers): head=confidence pairs, comma-separated, for category, "
            "subcategory, department and request_type (e.g. department=0.999). Below it an auto answer "
            "is suggest. For a centre that wants fewer cases applied without a look than the model "
            "allows; the urgency's auto is the safety rules' and stays as it is.",
            _parse_floors),
    Setting("explain_top", 5,
            "How many words or phrases each explanation lists.", _parse_positive_int),
    Setting("segmenter", "auto",
            "Word segmenter: auto (rjieba when installed, else jieba), rjieba or jieba.",
            _parse_segmenter),
    # -- the HTTP service and its handling queue --
    Setting("database_url", "sqlite:///" + str(PROJECT_ROOT / "var" / "triage.db"),
            "Case store: a SQLAlchemy URL. SQLite (the embedded default) or postgresql://user@host/db.", str),
    Setting("api_tokens", (),
            "Bearer tokens for write and queue endpoints, comma-separated. None set: `triage serve` "
            "makes one and prints it once; the app refuses every protected request.", _parse_list),
    Setting("api_tokens_file", "",
            "File with one bearer token per line, added to api_tokens (lines starting with # skipped).", str),
    Setting("admin_tokens", (),
            "Bearer tokens for /v1/admin/* (model reload), comma-separated.", _parse_list),
    Setting("open_predict", True, "Serve POST /v1/predict without a token.", _parse_bool),
    Setting("open_health", True, "Serve /healthz and /readyz without a token.", _parse_bool),
    Setting("open_metrics", True, "Serve /metrics without a token.", _parse_bool),
    Setting("max_body_bytes", 1_000_000, "Largest request body accepted, in bytes (413 above it).",
            _parse_positive_int),
    Setting("batch_limit", 100, "Most items in one POST /v1/triage/batch.", _parse_positive_int),
    Setting("caller_secret", "",
            "Secret for the keyed hashes (HMAC) that link a caller's cases. Empty: one is made on first "
            "start in var/caller_secret and reused; keep it, or earlier callers are no longer recognised.", str),
    Setting("keep_caller_contact", False,
            "Store callers' phone and ID numbers in clear so that staff can call back. Off: only masked "
            "(138****5678) and as keyed hashes.", _parse_bool),
    Setting("clear_text_tokens", (),
            "API tokens whose holders see callers' phone and ID numbers in clear in a case (stored in "
            "clear only with keep_caller_contact); every other token sees them masked.", _parse_list),
    Setting("repeat_window_days", 90, "How far back a caller's earlier cases are looked for.", _parse_days),
    Setting("repeat_similarity", 0.325,
            "Text similarity (cosine of the model's features, 0-1) from which an earlier case of the same "
            "caller counts as the same matter, when the new case is the caller's second in the window.",
            _parse_share),
    Setting("repeat_similarity_step", 0.08,
            "How much higher that similarity must be each time the caller's case count in the window "
            "doubles (a caller with many cases raises many matters); 0 keeps it flat.", _parse_fraction),
    Setting("repeat_follow_up_similarity", 1.0,
            "The most that similarity need be when the new case says the matter was raised before or is "
            "still unresolved (再次, 至今, 还没; triage/resources/follow_up_phrases.txt); 1 (the default) "
            "changes nothing. 0.4 found one more same-matter pair on the hand-labelled messages but did "
            "not beat the default cross-validated (docs/BENCHMARKS.md, session 11).", _parse_share),
    Setting("hot_issue_window_days", 7,
            "How far back cases from other callers are compared to find a hot issue (多人反映).",
            _parse_days),
    Setting("hot_issue_similarity", 0.5,
            "Text similarity (cosine of the cases' sketches, 0-1) from which another caller's case of the "
            "same category is the same matter.", _parse_share),
    Setting("hot_issue_urgent_size", 10,
            "A hot-issue group this large raises a new 一般 case in it to 紧急; 0 never does.", _parse_count),
    Setting("sla_critical", (2.0, 4.0, 24.0),
            "特急 deadlines in hours after receipt: respond, escalate to a supervisor, dispatch meeting.",
            _parse_sla_hours),
    Setting("sla_urgent", (24.0, 48.0, 72.0), "紧急 deadlines in hours: respond, escalate, meeting.",
            _parse_sla_hours),
    Setting("sla_normal", (72.0, 96.0, 144.0),
            "一般 deadlines in hours: the seven-day rhythm (answer by day 3, escalate day 4, meeting day 6).",
            _parse_sla_hours),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults < ``TRIAGE_*`` environment < ``overrides``.

    Raises:
        SettingError: an unknown setting name or a value that does not parse, naming both.
    """
    environ = os.environ if environ is None else environ
    values = {setting.name: setting.default for setting in SETTINGS}
    for setting in SETTINGS:
        raw = environ.get("TRIAGE_" + setting.name.upper())
        if raw is not None:
            values[setting.name] = _parse(setting, raw, "TRIAGE_" + setting.name.upper())
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise SettingError(f"unknown setting {name!r}; known settings: {', '.join(_BY_NAME)}")
        setting = _BY_NAME[name]
        values[name] = _parse(setting, value, name) if isinstance(value, str) else value
    return values


def resolve(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``settings`` itself when it is a complete, already-loaded table (the service loads
    one at start-up and passes it with every request), else ``load_settings(settings)``.
    With None, the table of the current ``TRIAGE_*`` environment, parsed again only when
    that changes (a library caller predicting one text at a time paid 0.1 ms a call)."""
    global _from_environment
    if settings is None:
        current = tuple(map(os.environ.get, _VARIABLES))
        if _from_environment is None or _from_environment[0] != current:
            _from_environment = (current, MappingProxyType(load_settings()))
        return _from_environment[1]
    if len(settings) == len(SETTINGS) and all(name in settings for name in _BY_NAME):
        return settings
    return load_settings(settings)


_from_environment: tuple[tuple, Mapping[str, Any]] | None = None
_VARIABLES = tuple("TRIAGE_" + setting.name.upper() for setting in SETTINGS)


def _parse(setting: Setting, raw: str, source: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as error:
        raise SettingError(f"{source}={raw!r} is not valid: {error}. {setting.help}") from None
