import json
import os
import subprocess
import sys

import jieba
import pytest

from triage import reference_jieba


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def jiebas_own():
    """The prefix dictionary jieba itself builds from its file."""
    blank = jieba.Tokenizer()
    return blank.gen_pfdict(blank.get_dict_file())


def test_the_cached_dictionary_is_jiebas_own(cache_folder, jiebas_own):
    built = reference_jieba.prefix_dictionary(jieba.Tokenizer())
    assert reference_jieba.cache_path().parent == cache_folder and reference_jieba.cache_path().is_file()
    read_back = reference_jieba.prefix_dictionary(jieba.Tokenizer())
    assert built == read_back == jiebas_own
    assert len(jiebas_own[0]) > 300_000


def test_the_tokenizer_cuts_as_jieba_does(cache_folder):
    text = "楼下饭店油烟直排熏得家里不敢开窗哈哈哈哈物业也不管"
    plain = jieba.Tokenizer()
    assert reference_jieba.tokenizer().lcut(text, HMM=True) == plain.lcut(text, HMM=True)


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # cut short while being copied
    lambda data: b"",
    lambda data: b"\x80" + data[1:],  # not this cache's magic
    lambda data: data[:-40] + b"\xff" * 40,  # words no longer UTF-8
])
def test_an_unreadable_cache_is_built_again(cache_folder, jiebas_own, damage):
    reference_jieba.prefix_dictionary(jieba.Tokenizer())
    path = reference_jieba.cache_path()
    good = path.read_bytes()
    path.write_bytes(damage(good))
    assert reference_jieba.prefix_dictionary(jieba.Tokenizer()) == jiebas_own
    assert path.read_bytes() == good


def test_a_folder_that_cannot_be_written_still_gives_the_dictionary(tmp_path, monkeypatch, jiebas_own, caplog):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
    assert reference_jieba.prefix_dictionary(jieba.Tokenizer()) == jiebas_own
    assert "could not cache jieba's dictionary" in caplog.text
    assert not (tmp_path / "missing").exists()


def test_a_dictionary_that_is_not_a_file_is_built_without_a_cache(cache_folder, monkeypatch, jiebas_own):
    def no_file():
        raise FileNotFoundError("dict.txt")

    monkeypatch.setattr(reference_jieba, "cache_path", no_file)
    assert reference_jieba.prefix_dictionary(jieba.Tokenizer()) == jiebas_own
    assert list(cache_folder.iterdir()) == []


def test_jieba_is_imported_without_pkg_resources_and_cuts_the_same(cache_folder):
    """In a new process (here jieba is imported already): jieba reads its HMM tables by
    path instead, and the unknown words that the HMM joins come out as jieba's."""
    text = "楼下新开的螺蛳粉店天天排油烟，邻居老郑说找过综执也没用"
    script = ("import json, sys; from triage import reference_jieba; "
              f"words = reference_jieba.tokenizer().lcut({text!r}, HMM=True); "
              "print(json.dumps([words, 'pkg_resources' in sys.modules]))")
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "TMPDIR": str(cache_folder)})
    words, imported = json.loads(answer.stdout)
    assert imported is False
    assert words == jieba.Tokenizer().lcut(text, HMM=True)
