"""`test/fetch_test_data.py` (issue 36): the test data from its public sources, here from a
file:// copy laid out as raw.githubusercontent.com is; every file's sha256 checked, a wrong one
named and refused, nothing fetched twice, and the merged evaluation set rebuilt exactly."""
import json

import pytest
from conftest import SHARED, needs_shared
from fetch_test_data import GITHUB, SOURCES, coco17_merge, fetch_data, main

pytestmark = needs_shared
ENTRIES = json.loads(SOURCES.read_text())["files"]


def _mirror(tmp_path, corrupt: str = ""):
    """A copy of the repositories' files at <mirror>/<owner>/<repo>/<commit>/<path>."""
    root = tmp_path / "mirror"
    for e in ENTRIES:
        if "url" not in e:
            continue
        dest = root / e["url"].removeprefix(GITHUB)
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = (SHARED / e["path"]).read_bytes()
        dest.write_bytes(data[:-1] + b"\0" if corrupt and e["path"].endswith(corrupt) else data)
    return root.as_uri() + "/"


def test_every_shared_data_file_has_a_pinned_public_source_and_its_digest():
    paths = {e["path"] for e in ENTRIES}
    shared = {str(p.relative_to(SHARED)) for p in (SHARED / "data").rglob("*")
              if p.is_file() and p.name != "README.md"}
    assert paths == shared
    for e in ENTRIES:
        assert ("url" in e) != ("built" in e), e["path"]
        if "url" in e:  # raw files of a public repository at one commit
            owner_repo_commit = e["url"].removeprefix(GITHUB).split("/")[:3]
            assert len(owner_repo_commit[2]) == 40, e["url"]


def test_the_merged_evaluation_set_is_rebuilt_byte_for_byte():
    built = coco17_merge(SHARED / "data")
    assert built == (SHARED / "data" / "coco17_eval_merged.json").read_bytes()


def test_fetch_verifies_refuses_and_does_not_fetch_twice(tmp_path, capsys):
    mirror = _mirror(tmp_path)
    folder = tmp_path / "data"
    assert main([str(folder), "--mirror", mirror, "--no-models", "--only", "mmpose_tests/coco"]
                ) == 0
    got = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert got == sorted(e["path"] for e in ENTRIES if "mmpose_tests/coco" in e["path"])
    assert "data: 8 file(s) fetched" in capsys.readouterr().out
    assert fetch_data(folder, mirror, "mmpose_tests/coco") == []  # all here: nothing fetched
    # the merged set is built from its three sources, fetched first
    fetched = fetch_data(folder, mirror, ".json")
    assert fetched[-1] == "data/coco17_eval_merged.json"
    assert (folder / fetched[-1]).read_bytes() == \
        (SHARED / "data" / "coco17_eval_merged.json").read_bytes()
    bad = _mirror(tmp_path / "bad", corrupt="ochuman/000817.jpg")
    with pytest.raises(ValueError, match=r"data/mmpose_tests/ochuman/000817.jpg from file:.* "
                                         r"has sha256 [0-9a-f]{64}, expected"):
        fetch_data(tmp_path / "other", bad, "ochuman")
    assert not list((tmp_path / "other").rglob("*.jpg*"))  # nothing kept of the wrong file
