"""Fixtures: one small model trained once per session from tests/data (never a
hand-made artifact), and the settings every test starts from."""
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
