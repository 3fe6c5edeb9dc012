"""The states of a case and the actions that move it, in one table.

    new ──assign──> assigned ──claim──> in_progress ──resolve──> resolved
     │                 │  ▲                 │
     │              return│reassign      return / reassign / escalate
     │                 ▼  │                 ▼
     └──────────>  returned (退单)   reassigned (改派)   escalated (升级)

Every action is recorded as an event (time, actor, reason); an action the current state
does not allow raises ``TransitionError`` (HTTP 409). A dispatcher's correction of a case's
category or urgency (``CaseStore.feedback``) is recorded as a ``correct`` event that keeps
the state.
"""
from __future__ import annotations

from .errors import TransitionError

STATUSES = ("new", "assigned", "in_progress", "returned", "reassigned", "escalated", "resolved")
OPEN_STATUSES = tuple(status for status in STATUSES if status != "resolved")

# action: (states it may start from, state it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({"new", "returned"}), "assigned"),
    "claim": (frozenset({"new", "assigned", "reassigned", "escalated"}), "in_progress"),
    "return": (frozenset({"assigned", "reassigned", "in_progress", "escalated"}), "returned"),
    "reassign": (frozenset({"new", "assigned", "reassigned", "in_progress", "returned", "escalated"}),
                 "reassigned"),
    "escalate": (frozenset(OPEN_STATUSES), "escalated"),
    # new -> resolved: an inquiry the hotline answered itself (直接答复).
    "resolve": (frozenset({"new", "in_progress", "escalated"}), "resolved"),
}
NEEDS_REASON = frozenset({"return", "reassign", "escalate"})
NEEDS_DEPARTMENT = frozenset({"assign", "reassign"})


def next_status(status: str, action: str) -> str:
    """The state ``action`` leads to from ``status``.

    Raises:
        TransitionError: the action is not allowed in ``status``; the message lists what is.
    """
    allowed_from, target = ACTIONS[action]
    if status not in allowed_from:
        possible = [name for name, (sources, _) in ACTIONS.items() if status in sources]
        raise TransitionError(f"cannot {action} a case that is {status}; "
                              f"allowed now: {', '.join(possible) or 'nothing (the case is closed)'}")
    return target
