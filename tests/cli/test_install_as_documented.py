"""`pipx install` and shell completion, run from the README's "Installing" section.

The install test builds the wheel and installs it with pipx as the README says, into a
throwaway pipx home, then runs the installed command: a module or a data file missing from
the wheel (migrations, entry points) shows there and nowhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from socialdesk import __version__
from tests.cli.test_readme_unattended import readme_blocks

ROOT = Path(__file__).resolve().parents[2]


def installing_lines() -> list[str]:
    (block,) = readme_blocks("## Installing", "sh")[:1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.timeout(600)
def test_the_built_wheel_installs_with_pipx_and_runs_the_demo(tmp_path: Path) -> None:
    build, install = [line for line in installing_lines()
                      if "wheel" in line or line.endswith(".whl")]
    pipx_home = tmp_path / "pipx"
    env = {**os.environ, "PIPX_HOME": str(pipx_home / "home"),
           "PIPX_BIN_DIR": str(pipx_home / "bin"), "PIPX_MAN_DIR": str(pipx_home / "man"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    clone = tmp_path / "socialdesk"  # a clean tree, as a fresh clone has it: setuptools
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(  # would reuse a stale build/
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    for line in (build.replace("/path/to/socialdesk", str(clone)), install):
        command = line.replace("python3 -m pip", f"{sys.executable} -m pip")
        command = command.replace("pipx install", f"{sys.executable} -m pipx install")
        subprocess.run(command, shell=True, cwd=tmp_path, env=env, check=True,
                       capture_output=True, timeout=540)
    installed = pipx_home / "bin" / "socialdesk"
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True,
                             check=True, cwd=tmp_path)
    assert version.stdout == f"socialdesk, version {__version__}\n"
    demo = subprocess.run([str(installed), "demo", "--no-tui", "--messages", "20"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=180,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert demo.returncode == 0, demo.stderr
    assert "syncing 2 accounts" in demo.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_as_the_readme_sets_it_up() -> None:
    (block,) = readme_blocks("## Installing", "sh")[1:2]
    bash_line = next(line.split("  #")[0].strip() for line in block.splitlines()
                     if "bash_source" in line)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    script = f"{bash_line}\ncomplete -p socialdesk\n" \
             "COMP_WORDS=(socialdesk rep); COMP_CWORD=1; _socialdesk_completion socialdesk\n" \
             'printf "%s\\n" "${COMPREPLY[@]}"'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PATH": path}, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("-F _socialdesk_completion socialdesk")
    assert sorted(lines[1:]) == ["reply", "report"]
