"""Batch triage of backlog files (``triage batch``): see ``runner`` for the flow."""
from .readers import Columns
from .runner import BatchOptions, run_batch

__all__ = ["BatchOptions", "Columns", "run_batch"]
