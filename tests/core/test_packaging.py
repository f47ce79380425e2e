"""fsd as a user installs it: the wheel, built from a clean copy of the sources and
installed into a fresh virtual environment (no editable install, no source tree on the
path, commands run from a temporary directory), runs ``fsd -nc``, ``fsd_cli -x status``,
a Lua script through the ``lua`` API and ``fsd -stop``.  And pyproject.toml lists every
module folder as a package and as an ``fsd.modules`` entry point.

Speed: the third-party dependencies are installed with ``--no-index`` from a wheelhouse
cached between runs (``$XDG_CACHE_HOME/fsd-tests``, keyed by the dependency list; filled
once through pip's own index and cache), fsd's wheel is built fresh every run, and one
venv serves the whole test session.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fsd.testing_process import daemon_process

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml", "mod_lua"]
# what a wheel is built from: everything pyproject's package-dir mapping reads
SOURCES = ["fsd", "plugins", "conf", "scripts", "pyproject.toml", "README.md"]


def _pip(python: str, *args: str, cwd: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", "--python", python, *args],
                       capture_output=True, text=True, cwd=cwd, timeout=600)
    assert r.returncode == 0, f"pip {args}: {r.stdout}\n{r.stderr}"


def _wheelhouse(wheel: Path, cwd: Path) -> Path:
    deps = "\n".join(sorted(PYPROJECT["project"]["dependencies"]))
    key = hashlib.sha256(f"{sys.version_info[:2]}\n{deps}".encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    house = cache / "fsd-tests" / f"wheelhouse-{key}"
    if not (house / ".complete").exists():
        tmp = house.with_name(house.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(tmp), str(wheel)],
                           capture_output=True, text=True, cwd=cwd, timeout=600)
        assert r.returncode == 0, f"pip wheel (dependencies): {r.stdout}\n{r.stderr}"
        for own in tmp.glob("fsd-*.whl"):
            own.unlink()
        (tmp / ".complete").write_text(deps)
        shutil.rmtree(house, ignore_errors=True)
        tmp.rename(house)
    return house


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with fsd's wheel installed; returns its bin directory."""
    work = tmp_path_factory.mktemp("pkg")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "build", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    dist = work / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "-w", str(dist), str(src)],
                       capture_output=True, text=True, cwd=work, timeout=600)
    assert r.returncode == 0, r.stderr
    (wheel,) = dist.glob("fsd-*.whl")
    house = _wheelhouse(wheel, work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    _pip(str(venv / "bin" / "python"), "install", "-q", "--no-compile", "--no-index",
         "--find-links", str(house), str(wheel), cwd=work)
    return venv / "bin"


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def test_installed_package_is_the_wheel_not_the_source_tree(installed, tmp_path):
    code = ("import json, sys, importlib.util, fsd, fsd_modules.mod_lua\n"
            "from fsd.dirs import embedded_conf_dir\n"
            "print(json.dumps({'fsd': fsd.__file__, 'mod_lua': fsd_modules.mod_lua.__file__,\n"
            " 'conf': str(embedded_conf_dir()), 'plugins': importlib.util.find_spec('plugins') is not None,\n"
            " 'path': sys.path}))")
    r = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env=_clean_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    venv = str(installed.parent)
    assert info["fsd"].startswith(venv) and info["mod_lua"].startswith(venv)
    assert info["conf"].startswith(venv) and Path(info["conf"], "autoload", "modules.conf.xml").is_file()
    assert info["plugins"] is False  # no top-level "plugins" package in site-packages
    assert not any(p.startswith(str(ROOT)) for p in info["path"]), info["path"]


def test_wheel_runs_daemon_cli_lua_and_stop(installed, tmp_path):
    base = tmp_path / "base"
    # the configuration the installed package ships (not the source tree's)
    r = subprocess.run([str(installed / "python"), "-c",
                        "from fsd.dirs import embedded_conf_dir; print(embedded_conf_dir())"],
                       capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), check=True)
    shutil.copytree(r.stdout.strip(), base / "conf")
    script = tmp_path / "hello.lua"
    script.write_text('stream:write("lua says " .. (argv[1] or "nothing") .. " on " .. _VERSION)\n')
    env = _clean_env()
    with daemon_process(base, MODULES, cmd=[str(installed / "fsd")], env=env) as d:
        assert (base / "run" / "fsd.pid").exists()

        def cli(command: str) -> str:
            out = subprocess.run([str(installed / "fsd_cli"), "-P", str(d.port), "-x", command],
                                 capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
            assert out.returncode == 0, out.stderr
            return out.stdout

        status = cli("status")
        assert status.startswith("UP ") and "is ready" in status
        assert cli(f"lua {script} packaged") .strip() == "lua says packaged on Lua 5.3"
        # the daemon's modules are the installed ones
        assert "mod_lua" in cli("show modules")
    assert not (base / "run" / "fsd.pid").exists()


def test_pyproject_lists_every_module_folder():
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    entry_points = PYPROJECT["project"]["entry-points"]["fsd.modules"]
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapping["fsd_modules"] == "plugins"
    missing_pkg, missing_ep = [], []
    for init in sorted((ROOT / "plugins").rglob("__init__.py")):
        rel = init.parent.relative_to(ROOT / "plugins")
        if "__pycache__" in rel.parts or not rel.parts:
            continue
        name = ".".join(("fsd_modules", *rel.parts))
        if name not in packages:
            missing_pkg.append(name)
        if len(rel.parts) == 1 and entry_points.get(rel.parts[0]) != name:
            missing_ep.append(rel.parts[0])
    for init in sorted((ROOT / "fsd").rglob("__init__.py")):
        rel = init.parent.relative_to(ROOT)
        if "__pycache__" not in rel.parts and ".".join(rel.parts) not in packages:
            missing_pkg.append(".".join(rel.parts))
    assert not missing_pkg, f"add to [tool.setuptools] packages: {missing_pkg}"
    assert not missing_ep, f"add to [project.entry-points.\"fsd.modules\"]: {missing_ep}"
    for name, target in entry_points.items():
        assert (ROOT / "plugins" / target.split(".", 1)[1] / "__init__.py").is_file(), name
    # a module's non-Python files (Lua sources, templates…) must be package data
    data = PYPROJECT["tool"]["setuptools"].get("package-data", {})
    unshipped = []
    for f in sorted((ROOT / "plugins").rglob("*")):
        if not f.is_file() or f.suffix in (".py", ".pyc") or "__pycache__" in f.parts:
            continue
        rel = f.relative_to(ROOT / "plugins")
        pkg = ".".join(("fsd_modules", *rel.parts[:-1]))
        if not any(fnmatch.fnmatch(rel.parts[-1], g) for g in data.get(pkg, [])):
            unshipped.append(str(rel))
    assert not unshipped, f"add to [tool.setuptools.package-data]: {unshipped}"
