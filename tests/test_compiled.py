"""The compiled modules (setup.py): built, and built from the source in the tree. Where
one is missing triage still works, slower; a stale one would run old code in place of
an edited .pyx, so an editable install must be refreshed (``pip install -e .``)."""
import importlib
from pathlib import Path

import pytest

import triage

MODULES = ["_scan", "_ngrams", "_products", "_merging", "_sketch_index"]


@pytest.mark.parametrize("name", MODULES)
def test_each_compiled_module_is_built_from_the_source_beside_it(name):
    try:
        module = importlib.import_module(f"triage.{name}")
    except ImportError:
        pytest.fail(f"triage/{name}.pyx was not built: pip install -e . on a machine with a C compiler")
    folder = Path(triage.__file__).parent
    for source in (folder / f"{name}.pyx", folder / "_arrays.pxd"):  # its code, and what every loop cimports
        if source.exists():  # an editable install or a checkout; an installed wheel carries no source
            assert Path(module.__file__).stat().st_mtime >= source.stat().st_mtime, \
                f"{module.__file__} is older than {source}: run pip install -e . to build it again"
