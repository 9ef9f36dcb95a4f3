"""`socialdesk report -o FILE` as a manager runs it: folders made, path problems in one line,
no temp file left behind; options summary cannot use are refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support import run_cli


def report(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command on an empty SQLite desk of its own."""
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n')
    return run_cli("report", *args, "--config", str(config))


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "2026" / "conversations.csv"
    result = report(tmp_path, "conversations", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("conversation_id,channel,")
    assert leftovers(tmp_path) == []


def test_a_directory_target_is_refused_in_one_line_and_leaves_no_temp_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = report(tmp_path, "conversations", "-o", str(folder))
    assert result.returncode == 2
    assert result.stderr == (f"socialdesk: usage error: cannot write the report to {folder}: "
                             "it is a directory; give a file name\n")
    assert leftovers(tmp_path) == [] and list(folder.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_unwritable_target_is_one_usage_line_not_an_unexpected_error(
    tmp_path: Path,
) -> None:
    """/proc refuses new files even to root, where a read-only folder would not."""
    result = report(tmp_path, "agents", "-o", "/proc/socialdesk-report.csv")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "socialdesk: usage error: cannot write the report to /proc/socialdesk-report.csv: ")
    assert result.stderr.count("\n") == 1 and "please report it" not in result.stderr


@pytest.mark.parametrize("options", [["--excel"], ["--unmask"], ["--excel", "--unmask"]])
def test_summary_refuses_the_csv_options_instead_of_ignoring_them(
    tmp_path: Path, options: list[str],
) -> None:
    result = report(tmp_path, "summary", *options)
    assert result.returncode == 2
    assert result.stderr.startswith("socialdesk: usage error: summary prints a table; ")
    assert " and ".join(options) + " apply to the CSV kinds" in result.stderr
    assert result.stdout == ""
