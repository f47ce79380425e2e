"""Issue 19: module load/runtime hooks run under switch.conf.xml's module-load-timeout,
through real daemons (``fsd -nc`` / ``fsd -stop``) with misbehaving third-party modules
installed into a temporary target (tests/fixtures/hang_plugins):

* a load that hangs is refused after the timeout; when the module is critical ``fsd -nc``
  fails naming it;
* ``sys.exit`` or a non-Exception ``BaseException`` in load is refused naming the module,
  and the daemon goes on;
* a runtime hook that hangs is left running and startup goes on;
* ``fsd -stop`` ends a daemon whose (unbounded) module load hangs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fsd.testing import prepare_base, wait_until
from fsd.testing_process import daemon_process, install_to_target

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "hang_plugins"
FSD = [sys.executable, "-m", "fsd.cli"]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    target = install_to_target(FIXTURE, tmp_path_factory.mktemp("hang") / "site")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(target)
    return env


def _modules_conf(base: Path, entries: list[str]) -> None:
    lines = "\n".join(f"    {e}" for e in entries)
    (base / "conf" / "autoload" / "modules.conf.xml").write_text(
        f'<configuration name="modules.conf" description="Modules">\n  <modules>\n{lines}\n'
        f"  </modules>\n</configuration>\n")


def _pid(base: Path) -> int | None:
    for p in (base / "run").glob("*.pid"):
        text = p.read_text().strip()
        if text.isdigit():
            return int(text)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie (our own child, not reaped yet) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_critical_module_hanging_in_load_fails_nc_naming_it(tmp_path, plugin_env):
    base = tmp_path / "base"
    prepare_base(base, switch_settings={"module-load-timeout": "1"})
    _modules_conf(base, ['<load module="mod_commands"/>',
                         '<load module="mod_hang_load" critical="true"/>'])
    r = subprocess.run(FSD + ["-nc", "-base", str(base)], capture_output=True, text=True,
                       timeout=120, env=plugin_env)
    assert r.returncode != 0, r.stdout
    assert "critical module mod_hang_load failed to load" in r.stderr, r.stderr
    assert "did not return from fsd_module_load (module-load-timeout is 1 s)" in r.stderr
    pid = _pid(base)
    assert pid is None or wait_until(lambda: not _alive(pid), 10)


def test_misbehaving_loads_are_refused_by_name_and_the_daemon_goes_on(tmp_path, plugin_env):
    base = tmp_path / "base"
    mods = ["mod_commands", "mod_event_socket", "mod_hang_load", "mod_exit_load",
            "mod_base_exc_load", "mod_hang_runtime"]
    prepare_base(base, mods, switch_settings={"module-load-timeout": "1"})
    with daemon_process(base, mods, env={"PYTHONPATH": plugin_env["PYTHONPATH"]}) as d:
        assert d.api("status").startswith("UP ")
        for name in ("mod_hang_load", "mod_exit_load", "mod_base_exc_load"):
            assert d.api(f"module_exists {name}") == "false"
        assert "hang_load_api" not in d.api("show api")
        log = d.log_text()
        assert "module mod_hang_load did not return from fsd_module_load" in log
        assert "module mod_exit_load failed to load: it raised SystemExit(3)" in log
        assert "module mod_base_exc_load failed to load: it raised Escape(out of the contract)" in log
        assert "module mod_hang_runtime did not return from fsd_module_runtime" in log
        assert d.api("hang_runtime_api") == "runtime module alive"
        # The same refusals over the load API: -ERR naming the module, daemon up.
        out = d.api("load mod_exit_load")
        assert out.startswith("-ERR") and "mod_exit_load" in out and "SystemExit" in out, out
        out = d.api("load mod_hang_load")
        assert out.startswith("-ERR") and "mod_hang_load did not return" in out, out
        assert d.api("status").startswith("UP ")
        pid = _pid(base)
        assert pid is not None
        r = d.run("-stop", "-base", str(base), check=False)
        assert r.returncode == 0, r.stderr
        assert wait_until(lambda: not _alive(pid), 10)


def test_stop_ends_a_daemon_whose_unbounded_load_hangs(tmp_path, plugin_env):
    base = tmp_path / "base"
    prepare_base(base, ["mod_commands", "mod_hang_load"],
                 switch_settings={"module-load-timeout": "0"})
    starter = subprocess.Popen(FSD + ["-nc", "-base", str(base)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=plugin_env)
    try:
        assert wait_until(lambda: _pid(base) is not None, 60)
        pid = _pid(base)
        log = base / "log" / "fsd.log"
        # mod_hang_load is next once mod_commands is loaded (a SIGTERM arriving before its
        # hook starts is noticed by the same wait)
        assert wait_until(lambda: log.exists() and "[mod_commands]" in log.read_text(), 60)
        r = subprocess.run(FSD + ["-stop", "-base", str(base)], capture_output=True, text=True,
                           timeout=60, env=plugin_env)
        assert r.returncode == 0, r.stderr
        assert not _alive(pid)
        assert "mod_hang_load did not return from fsd_module_load (a shutdown was requested)" \
            in log.read_text()
    finally:
        starter.wait(30)
