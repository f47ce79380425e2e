"""A third-party module outside the repository (tests/fixtures/toy_language, installed into
a temporary target directory, never into the running environment) registers a toy
language through the public contract (``module.add_language``); a daemon process started
with that directory on PYTHONPATH runs a dialplan application written in it, expands
``${toy(...)}`` and runs ``api_hangup_hook=toy …`` through the language — no core
change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fsd.testing import prepare_base, wait_until

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "toy_language"
MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_toy"]


def test_toy_language_from_an_installed_plugin(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(FIXTURE)],
                   check=True, capture_output=True, timeout=300)
    base = tmp_path / "base"
    out_app, out_hook = tmp_path / "app.txt", tmp_path / "hook.txt"
    dialplan = f"""<include><context name="t">
<extension name="toy"><condition field="destination_number" expression="^toy$">
  <action application="set" data="shout=${{toy(upper hello toy)}}"/>
  <action application="set" data="api_hangup_hook=toy {out_hook}"/>
  <action application="toy" data="hello.toy"/>
  <action application="park"/>
</condition></extension></context></include>"""
    prepare_base(base, MODULES, extra_files={
        "conf/dialplan/t.xml": dialplan,
        "scripts/hello.toy": f"answer\nset toy_ran yes\nwrite {out_app} ${{shout}} ${{toy_ran}}\n",
    })
    env = dict(os.environ, PYTHONPATH=str(target))
    p = subprocess.Popen([sys.executable, "-m", "fsd.cli", "-c", "-base", str(base)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env)
    try:
        p.stdin.write("originate loopback/toy/t &park()\n")
        p.stdin.flush()
        assert wait_until(lambda: out_app.exists() and out_app.read_text(), 30)
        assert out_app.read_text() == "HELLO TOY yes"
        p.stdin.write("hupall\n")
        p.stdin.flush()
        assert wait_until(lambda: out_hook.exists() and out_hook.read_text(), 30)
        assert out_hook.read_text() == "hook MANAGER_REQUEST"  # hupall's cause
        p.stdin.write("/exit\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 0, out
    assert "Successfully Loaded [mod_toy]" in out or "mod_toy" in out
    # nothing was installed into the running environment
    import importlib.util

    assert importlib.util.find_spec("fsd_toy_language") is None
