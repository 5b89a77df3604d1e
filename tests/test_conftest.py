"""The shared test fixtures of tests/conftest.py: work made once per test run, and the files' start order."""

from __future__ import annotations

import os
from pathlib import Path

import conftest
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_longest_first_names_test_files_that_exist():
    names = conftest.LONGEST_FIRST
    assert len(set(names)) == len(names)
    missing = [n for n in names if not (ROOT / "tests" / n).is_file()]
    assert not missing, f"tests/conftest.py LONGEST_FIRST names files that do not exist: {missing}"


def test_shared_once_makes_a_folder_once(shared_once, tmp_path):
    calls = []

    def make(out: Path) -> None:
        calls.append(out)
        (out / "x.txt").write_text("made")

    name = f"once-{os.getpid()}-{tmp_path.name}"
    first = shared_once(name, make)
    again = shared_once(name, make)
    assert first == again and (first / "x.txt").read_text() == "made"
    assert len(calls) == 1 and calls[0] != first  # made elsewhere, renamed into place


def test_shared_once_keeps_nothing_of_a_failed_make(shared_once, tmp_path):
    def broken(out: Path) -> None:
        (out / "half.txt").write_text("half")
        raise RuntimeError("make failed")

    name = f"failed-{os.getpid()}-{tmp_path.name}"
    with pytest.raises(RuntimeError, match="make failed"):
        shared_once(name, broken)
    out = shared_once(name, lambda out: (out / "whole.txt").write_text("whole"))
    assert sorted(p.name for p in out.iterdir()) == ["whole.txt"]


def test_the_demo_folders_are_shared(small_data, leads_only, shared_once):
    assert leads_only.parent == small_data.parent
    assert shared_once("small_demo", lambda out: pytest.fail("small_data was made again")) == small_data
    assert sorted(p.name for p in leads_only.iterdir()) == ["audit.yaml", "leads.csv"]
