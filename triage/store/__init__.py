"""The persistent handling queue: schema, migrations, and ``CaseStore``."""
from .cases import CaseStore, utc_iso, utc_now
from .database import migrate, open_engine

__all__ = ["CaseStore", "open_engine", "migrate", "utc_iso", "utc_now"]
