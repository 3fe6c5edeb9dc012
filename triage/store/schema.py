"""Tables of the case store. Changing one means adding a migration in ``migrations/``;
``tests/test_store.py`` fails when the migrated database and these tables disagree.

Times are naive UTC. Texts are stored masked (setting ``mask_personal_data``); caller
phone and ID numbers are stored masked and as keyed hashes in ``caller_keys`` (clear only
with the setting ``keep_caller_contact``), masked in every API answer and never logged.
"""
from sqlalchemy import (JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text)

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("external_id", String(128), unique=True, nullable=True),
    Column("text_sha256", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("caller", JSON, nullable=True),
    Column("location", JSON, nullable=True),
    Column("result", JSON, nullable=False),            # the engine's whole answer
    Column("model_version", String(64), nullable=False),
    Column("category", String(64), nullable=True),
    Column("subcategory", String(64), nullable=True),
    Column("urgency", String(8), nullable=False),
    Column("urgency_rank", Integer, nullable=False),   # 0 特急, 1 紧急, 2 一般: the queue's first key
    Column("decision", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("department", String(64), nullable=True),   # responsible now (predicted, then as dispatched)
    Column("claimed_by", String(128), nullable=True),
    Column("escalations", Integer, nullable=False, default=0),
    Column("respond_by", DateTime, nullable=False),
    Column("escalate_at", DateTime, nullable=False),
    Column("meeting_at", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("hot_group", Integer, nullable=True),         # first case of its hot-issue group (hot_issues.py)
    Column("hot_group_size", Integer, nullable=True),    # on a group's first case: the cases it has, itself included
    Column("sketch", LargeBinary, nullable=True),        # the text's strongest features, for hot issues
    Column("sketch_model", String(64), nullable=True),   # the model whose features the sketch holds
    # A case with a caller: its TF-IDF row (repeat.pack_row) by the model of model_version,
    # for comparing the caller's later cases with it (repeat.py)
    Column("features", LargeBinary, nullable=True),
)
Index("ix_cases_queue", cases.c.status, cases.c.urgency_rank, cases.c.respond_by)
Index("ix_cases_hot_candidates", cases.c.category, cases.c.received_at)
Index("ix_cases_hot_group", cases.c.hot_group)
Index("ix_cases_department", cases.c.department, cases.c.status)

case_events = Table(
    "case_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("department", String(64), nullable=True),
    Column("reason", Text, nullable=True),
)

labels = Table(
    "labels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("source", String(16), nullable=False),      # feedback | return | reassign
    Column("category", String(64), nullable=True),
    Column("subcategory", String(64), nullable=True),
    Column("department", String(64), nullable=True),
    Column("urgency", String(8), nullable=True),
    Column("request_type", String(16), nullable=True),
    Column("rejected_department", String(64), nullable=True),  # 退单: the unit that sent it back
    Column("agrees_with_model", Boolean, nullable=False),
)

caller_keys = Table(
    "caller_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),          # phone | id_number
    Column("key", String(64), nullable=False),           # HMAC-SHA256, hex (triage/identity.py)
    Column("received_at", DateTime, nullable=False),
)
Index("ix_caller_keys_lookup", caller_keys.c.key, caller_keys.c.received_at)
