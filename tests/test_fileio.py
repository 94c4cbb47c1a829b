"""Writing files: whole or not at all, the previous version kept, links followed, read-only files refused, and a
nearly full disk that never costs the project or its backup."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from reelforge import edit
from reelforge.document.loader import validate_data
from reelforge.editing.project import Project, document_json
from reelforge.fileio import WriteError, atomic_output, backup_path, sweep_partials, write_atomic

DOCUMENT = {"version": "1", "name": "Saved", "scenes": [
    {"id": "a", "duration": 2, "visual": {"type": "color", "color": "#102030"}}]}


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".partial" in path.name or path.name.endswith(".tmp"))


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path):
    target = tmp_path / "out.txt"
    write_atomic(target, "first")
    write_atomic(target, "second", keep_backup=True)
    assert target.read_text() == "second" and backup_path(target).read_text() == "first"
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"the old render")
    with pytest.raises(RuntimeError):
        with atomic_output(target, suffix=".mp4") as temp:
            temp.write_bytes(b"half of a new ren")
            raise RuntimeError("the work failed")
    assert target.read_bytes() == b"the old render" and leftovers(tmp_path) == []


def test_writing_through_a_symlink_changes_the_file_it_points_to(tmp_path: Path):
    real = tmp_path / "real" / "project.json"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    os.chown(real, 4321, 4321) if os.getuid() == 0 else None
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new", keep_backup=True)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new" and backup_path(real).read_text() == "old"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    if os.getuid() == 0:
        assert (real.stat().st_uid, real.stat().st_gid) == (4321, 4321)
    assert not backup_path(link).exists()


def test_a_read_only_file_is_not_replaced(tmp_path: Path):
    target = tmp_path / "project.json"
    target.write_text("mine")
    os.chmod(target, 0o444)
    with pytest.raises(WriteError, match="read-only") as caught:
        write_atomic(target, "theirs")
    assert caught.value.read_only and caught.value.exit_code == 2
    assert target.read_text() == "mine" and leftovers(tmp_path) == []


@pytest.mark.parametrize("where, reason", [("folder", "is a folder"), ("missing", "does not exist")])
def test_a_path_that_cannot_be_a_file_is_one_sentence(tmp_path: Path, where: str, reason: str):
    target = tmp_path / "a-folder" if where == "folder" else tmp_path / "no" / "such" / "out.mp4"
    if where == "folder":
        target.mkdir()
    with pytest.raises(WriteError, match=reason):
        write_atomic(target, "x")


def test_a_project_saved_through_a_link_keeps_the_link(tmp_path: Path):
    real = tmp_path / "projects" / "video.json"
    real.parent.mkdir()
    real.write_text(json.dumps(DOCUMENT))
    link = tmp_path / "video.json"
    link.symlink_to(real)
    project = Project.open(link)
    project.apply(edit.update_scene("a", title="Through the link"))
    project.save()
    assert link.is_symlink()
    assert json.loads(real.read_text())["scenes"][0]["title"] == "Through the link"
    assert json.loads(backup_path(real).read_text()) == DOCUMENT


def test_partials_of_a_dead_writer_are_swept_and_a_live_one_is_kept(tmp_path: Path):
    target = tmp_path / "out.mp4"
    dead = tmp_path / f".out.mp4.99999.{uuid.uuid4().hex[:8]}.partial.mp4"
    dead.write_bytes(b"left by a killed render")
    with atomic_output(target, suffix=".mp4") as live:
        removed = sweep_partials(tmp_path, "out.mp4")
        assert removed == [dead] and live.exists()
    assert not dead.exists()


# -- a nearly full disk --------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KB tmpfs of the test's own (root may mount one; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0777", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({result.stderr.strip() or 'mount failed'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Take all the free space on `disk` but `leave` bytes."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    os.sync()
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    if free > leave:
        with filler.open("wb") as handle:
            handle.write(b"\0" * (free - leave))


def test_saving_on_a_full_disk_keeps_the_project_and_its_backup_whole_at_every_boundary(small_disk: Path):
    scenes = [{"id": f"s{i}", "duration": 2, "title": "x" * 200, "visual": {"type": "color", "color": "#102030"}}
              for i in range(30)]
    versions = [{**DOCUMENT, "name": f"Version {n}", "scenes": scenes} for n in range(3)]
    texts = [document_json(validate_data(version)) for version in versions]  # each as a save writes it
    size = len(texts[0].encode())
    assert 8_000 < size < 16_000
    path = small_disk / "video.json"
    outcomes = set()
    for leave in range(0, 3 * size + 8192, 2048):
        (small_disk / "filler").unlink(missing_ok=True)
        path.write_text(texts[1])  # the project as it was saved last ...
        backup_path(path).write_text(texts[0])  # ... and the version before
        project = Project.open(path)
        project.apply(edit.replace_document(versions[2]))
        fill(small_disk, leave)
        try:
            project.save()
            outcomes.add("saved")
        except WriteError as error:
            assert "disk is full" in str(error), error
            outcomes.add("refused")
        (small_disk / "filler").unlink(missing_ok=True)
        on_disk, backup = path.read_text(), backup_path(path).read_text()
        assert on_disk in (texts[1], texts[2]), f"{leave} bytes free: the project is a fragment"
        assert backup in (texts[0], texts[1]), f"{leave} bytes free: the backup is a fragment"
        assert (on_disk, backup) in ((texts[1], texts[0]), (texts[2], texts[1])), f"{leave} bytes free: versions lost"
        assert leftovers(small_disk) == []
    assert outcomes == {"saved", "refused"}  # both sides of the boundary were reached
