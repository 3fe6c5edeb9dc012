"""The README documents every setting, and every documented setting exists."""
import re
from pathlib import Path

from triage.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", README, flags=re.MULTILINE))
    assert documented == {setting.name for setting in SETTINGS}
