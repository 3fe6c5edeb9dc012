"""Deadlines of a case from its urgency, and where a case stands against them.

Three clocks start when a case is received: the department must respond, a supervisor
takes it over (escalation), and it goes to the dispatch meeting. 一般 cases follow the
seven-day rhythm (day 3, day 4, day 6); 特急 and 紧急 run on hours. Days are calendar
days: a centre that counts working days sets the hours accordingly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

URGENCY_SETTINGS = {"特急": "sla_critical", "紧急": "sla_urgent", "一般": "sla_normal"}
URGENCY_RANK = {"特急": 0, "紧急": 1, "一般": 2}
STAGES = ("on_time", "overdue", "escalated", "meeting")
STAGE_TITLES = {"on_time": "未超期", "overdue": "已超期，待答复", "escalated": "已升级至主管",
                "meeting": "提交调度会"}


CHINA_STANDARD_TIME = timezone(timedelta(hours=8))
EARLIEST = datetime(1970, 1, 1)  # no case is older; an earlier time is a placeholder or a typing slip


def as_utc(moment: datetime) -> datetime:
    """``moment`` as the store keeps times: naive UTC. A time without an offset is China
    Standard Time (UTC+8), as hotline exports and the centre's clocks give times.

    Raises:
        ValueError: the time is before ``EARLIEST`` (0001-01-01, 1900-01-01: an export's
            empty date), where a repeat window reaching back from it leaves the calendar.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # before the year 1 in UTC
        utc = datetime.min
    if utc < EARLIEST:
        raise ValueError(f"{moment.isoformat()} is before {EARLIEST:%Y-%m-%d}")
    return utc


def utc_now() -> datetime:
    """Now as the store keeps times: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def utc_iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset."""
    return None if moment is None else moment.replace(tzinfo=timezone.utc).isoformat()


@dataclass(frozen=True)
class Deadlines:
    respond_by: datetime
    escalate_at: datetime
    meeting_at: datetime


def deadlines(urgency: str | None, received_at: datetime, settings: Mapping[str, Any]) -> Deadlines:
    """Deadlines for a case of ``urgency`` (an unknown or missing urgency counts as 一般)."""
    respond, escalate, meeting = settings[URGENCY_SETTINGS.get(urgency or "", "sla_normal")]
    return Deadlines(received_at + timedelta(hours=respond), received_at + timedelta(hours=escalate),
                     received_at + timedelta(hours=meeting))


def stage(due: Deadlines, now: datetime, resolved: bool = False) -> str:
    """The escalation stage at ``now``; a resolved case stays at the stage it reached."""
    if resolved or now < due.respond_by:
        return "on_time"
    if now < due.escalate_at:
        return "overdue"
    if now < due.meeting_at:
        return "escalated"
    return "meeting"
