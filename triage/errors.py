"""The one exception tree of triage.

    TriageError                 anything triage refuses to do (status 400)
    ├── InputError              a text or request field is unusable (400, names the field)
    ├── DataFileError           a training/evaluation file cannot be read or has no usable rows (400)
    ├── SettingError            a setting has a bad value (500: the operator must fix it)
    ├── AuthError               no bearer token, or one that is not accepted (401)
    ├── CaseNotFoundError       no case with the given id (404)
    ├── TransitionError         the case's state does not allow the action, or an
    │                           idempotency key reused for another text (409)
    ├── StoreError              the case store cannot be reached or migrated (503)
    └── ModelError              a model cannot be trained, found or trusted (500)
        ├── ModelNotFoundError      no model at the given folder (404 when asked for over HTTP)
        └── ModelIntegrityError     checksum, schema or library version does not match

The CLI turns each into one stderr line and exit code 1; the HTTP service into one JSON
error body with ``status``.
"""
from __future__ import annotations


class TriageError(Exception):
    """Base class. ``status`` is the HTTP status the service answers with."""

    status = 400
    code = "triage_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class InputError(TriageError):
    code = "invalid_input"


class DataFileError(TriageError):
    code = "bad_data_file"


class SettingError(TriageError):
    status = 500
    code = "bad_setting"


class AuthError(TriageError):
    status = 401
    code = "unauthorized"


class CaseNotFoundError(TriageError):
    status = 404
    code = "case_not_found"


class TransitionError(TriageError):
    status = 409
    code = "conflict"


class StoreError(TriageError):
    status = 503
    code = "store_unavailable"


class ModelError(TriageError):
    status = 500
    code = "model_error"


class ModelNotFoundError(ModelError):
    status = 404
    code = "model_not_found"


class ModelIntegrityError(ModelError):
    code = "model_refused"
