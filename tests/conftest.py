"""Fixtures: one small model trained once per session from tests/data (never a
hand-made artifact), and the settings every test starts from."""
import os
from pathlib import Path

import pytest

from triage import TriageModel, save
from triage.datafiles import read_labelled

DATA = Path(__file__).parent / "data"
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def small_corpus_path() -> Path:
    return DATA / "small_corpus.csv"


@pytest.fixture(scope="session")
def small_model(small_corpus_path) -> TriageModel:
    data = read_labelled([small_corpus_path])
    return TriageModel().fit(data.texts, data.labels)


@pytest.fixture(scope="session")
def small_model_dir(small_model, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    save(small_model, folder)
    return folder


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data absent at {SHARED_DATA}")
    return SHARED_DATA


# -- the case store: SQLite always, PostgreSQL where a server answers -------------------
POSTGRES_ADMIN_URL = os.environ.get("TRIAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the PostgreSQL server for this test session, dropped afterwards."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                                     isolation_level="AUTOCOMMIT")
    name = f"triage_test_{os.getpid()}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at {POSTGRES_ADMIN_URL} ({error.orig}); "
                    "start one or set TRIAGE_TEST_POSTGRES_URL")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each store test runs on a new SQLite file and on a PostgreSQL database emptied for it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return request.getfixturevalue("postgresql_clean")


@pytest.fixture
def postgresql_clean(postgres_url):
    from sqlalchemy import create_engine

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return postgres_url


@pytest.fixture
def store(database_url):
    from triage.settings import load_settings
    from triage.store import CaseStore, migrate, open_engine

    engine = open_engine(database_url)
    migrate(engine)
    yield CaseStore(engine, load_settings(environ={}))
    engine.dispose()


# -- the HTTP service ---------------------------------------------------------------------
API_TOKEN = "test-token-0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef"


@pytest.fixture
def app(small_model_dir, tmp_path):
    from service import create_app

    return create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'service.db'}",
                       "api_tokens": (API_TOKEN,), "admin_tokens": (ADMIN_TOKEN,), "caller_secret": "test-secret",
                       "TESTING": True,
                       "QUIET_ACCESS_LOG": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {API_TOKEN}"}
