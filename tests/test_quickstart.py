"""The quick start works as written on a fresh clone: install from the clone and from a git URL,
then every Python snippet and every command of docs/quickstart.md, in fresh virtual environments.

Each environment reuses this interpreter's installed dependencies (a ``.pth`` line, so the
package itself comes only from the fresh install) and an offline ``pip`` (``--no-index
--no-deps --no-build-isolation``): no network is needed. The command-line block (a short
training run) is a slow test (``make test-slow``); the installs and the snippets run by default.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = (ROOT / "docs" / "quickstart.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", QUICKSTART, re.S)


def _venv(path: Path) -> Path:
    """An empty venv at ``path`` that sees this interpreter's installed dependencies (not the package)."""
    venv.create(path, with_pip=False)
    py = path / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_reuse_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return py


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A committed snapshot of this checkout as a git repository, and a work folder."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    tmp = tmp_path_factory.mktemp("quickstart")
    repo = tmp / "origin"
    # the working tree as it is (committed or not), as a repository of its own
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for f in files:
        if (ROOT / f).is_file():
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, repo / f)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=repo, check=True)
    return tmp, repo


def _run_install(lines: list[str], py: Path, work: Path, repo: Path) -> tuple[dict, str]:
    work.mkdir()
    env = {**os.environ, "REPO": f"file://{repo}", "PATH": f"{py.parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    offline_pip = (f'pip() {{ "{sys.executable}" -m pip --python "{py}" "$@" --no-index --no-deps '
                   '--no-build-isolation -q --disable-pip-version-check; }\n')
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", offline_pip + "\n".join(lines)], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    import social_dilemmas

    assert r.stdout.strip().splitlines()[-1] == f"social-dilemmas {social_dilemmas.__version__}"
    where = subprocess.run([str(py), "-c", "import social_dilemmas, importlib.metadata as m; "
                            "print(social_dilemmas.__file__); print(m.distribution('social-dilemmas')"
                            ".read_text('direct_url.json'))"], cwd=work, env=env, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    # the package comes from the fresh install, not from this checkout
    assert where[0].startswith(str(py.parents[1])), where[0]
    return env, where[1]


def test_quickstart_installs_straight_from_git(fresh):
    tmp, repo = fresh
    install = next(b for b in _blocks("bash") if "pip install" in b).splitlines()
    lines = [ln for ln in install if "git+" in ln or "--version" in ln]
    assert len(lines) == 2, lines
    _, direct_url = _run_install(lines, _venv(tmp / "venv-git"), tmp / "work-git", repo)
    assert json.loads(direct_url)["url"] == f"file://{repo}" and "vcs_info" in json.loads(direct_url)


@pytest.fixture(scope="module")
def clone_install(fresh):
    """The quick start's clone-and-install lines, run in a fresh venv: (venv python, env, work folder)."""
    tmp, repo = fresh
    install = next(b for b in _blocks("bash") if "pip install" in b).splitlines()
    lines = [ln for ln in install if "git+" not in ln]  # the clone path (the git path has its own test)
    py = _venv(tmp / "venv")
    work = tmp / "work"
    env, direct_url = _run_install(lines, py, work, repo)
    assert json.loads(direct_url)["url"] == (work / "social-dilemmas").as_uri()
    return py, env, work


def test_quickstart_installs_from_a_clone_and_its_snippets_run(clone_install):
    py, env, work = clone_install
    blocks = _blocks("python")
    assert blocks
    script = "\n".join(blocks)  # one session, as a reader pastes them one after the other
    r = subprocess.run([str(py), "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{script}\n{r.stderr}"


@pytest.mark.slow
def test_quickstart_commands_run(clone_install):
    """The command-line block (a short training run and its evaluation): a minute or more on a busy CPU."""
    py, env, work = clone_install
    commands = [b for b in _blocks("bash") if "pip install" not in b]
    assert commands, "the quick start shows no commands"
    for block in commands:
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{block}\n{r.stdout}\n{r.stderr}"
    assert (work / "runs" / "first" / "checkpoint.pt").exists()
