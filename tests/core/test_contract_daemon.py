"""The plugin contract through a real daemon (``fsd -nc``) with third-party test modules
installed into a temporary target (tests/fixtures/contract_plugins):

* a module whose names clash is refused, the error naming both modules, and what it had
  already added is gone;
* a broadcast (and first-result) hook raising in one module still reaches the others,
  and the log names the module;
* unloading module A leaves every interface of module B;
* the new hooks (fsd_channel_state, fsd_outgoing_channel, fsd_dialplan_hunt), each used
  by a bundled module and by the test module B.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fsd.testing import wait_until
from fsd.testing_process import daemon_process, install_to_target

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "contract_plugins"
# B loads before A: pluggy calls the last loaded first, so A raises before B is reached
MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml", "mod_contract_b", "mod_contract_a"]
UUID = re.compile(r"^\+OK ([0-9a-f-]{36})\s*$")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    target = install_to_target(FIXTURE, root / "site")
    with daemon_process(root / "base", MODULES, env={"PYTHONPATH": str(target)}) as d:
        yield d


def originate(d, text: str) -> str:
    out = d.api(f"originate {text}")
    m = UUID.match(out)
    assert m, out
    return m.group(1)


def getvar(d, uuid: str, name: str) -> str:
    return d.api(f"uuid_getvar {uuid} {name}").strip()


def test_third_party_modules_loaded_from_the_target(daemon):
    assert daemon.api("contract_b").strip() == "contract b"
    assert daemon.api("module_exists mod_contract_a") == "true"


def test_clashing_name_is_refused_naming_both_modules(daemon):
    out = daemon.api("load mod_contract_clash")
    assert out.startswith("-ERR"), out
    assert "mod_contract_b" in out and "mod_contract_clash" in out and "contract_b" in out
    assert daemon.api("module_exists mod_contract_clash") == "false"
    # what it added before the clash went with it; B's API is still B's
    assert "contract_clash_first" not in daemon.api("show api")
    assert daemon.api("contract_b").strip() == "contract b"


def test_hooks_outside_the_contract_are_refused_at_load(daemon):
    out = daemon.api("load mod_contract_typo")
    assert out.startswith("-ERR") and "fsd_chanel_state is not a hook of fsd's plugin contract" in out, out
    out = daemon.api("load mod_contract_bad_args")
    assert out.startswith("-ERR") and "does not fit the plugin contract" in out and "colour" in out, out
    assert daemon.api("module_exists mod_contract_typo") == "false"
    assert daemon.api("module_exists mod_contract_bad_args") == "false"
    assert daemon.api("status").startswith("UP ")  # and the daemon goes on


def test_raising_broadcast_hook_reaches_the_others_and_names_its_module(daemon):
    uuid = originate(daemon, "{contract_watch=yes}null/state &park()")
    try:
        # B (and mod_commands' state counter) saw the states although A raised first
        assert wait_until(lambda: "CS_PARK" in daemon.api("global_getvar contract_b_states"))
        assert wait_until(lambda: "CS_PARK 1" in daemon.api("status"))
        status = daemon.api("status")
        assert re.search(r"contract b ok \(\d+ states seen\)", status), status
        log = daemon.log_text()
        assert "module mod_contract_a: hook fsd_channel_state failed: RuntimeError: boom from contract a (state)" in log
        assert "module mod_contract_a: hook fsd_status_lines failed" in log
    finally:
        daemon.api(f"uuid_kill {uuid}")
    assert wait_until(lambda: "CS_PARK" not in daemon.api("status"))


def test_outgoing_channel_hook_sees_every_leg(daemon):
    a = originate(daemon, "{contract_watch=yes}null/first &bridge({contract_watch=yes}null/second)")
    try:
        assert wait_until(lambda: len(daemon.api("global_getvar contract_b_outgoing").split()) >= 2)
        # the hook fires when the leg is made; A records it once the bridge has the leg
        assert wait_until(lambda: re.fullmatch(r"[0-9a-f-]{36}", getvar(daemon, a, "originated_legs")))
        b = getvar(daemon, a, "originated_legs")
        seen = daemon.api("global_getvar contract_b_outgoing").split()
        assert f"first:none:{a}" in seen and f"second:{a}:{b}" in seen
        # the bundled use (mod_dptools): FreeSWITCH's variables on outbound legs
        assert getvar(daemon, b, "originating_leg_uuid") == a
        assert getvar(daemon, a, "originate_endpoint") == "null"
        assert "hook fsd_outgoing_channel failed: RuntimeError: boom from contract a (outgoing)" in daemon.log_text()
    finally:
        daemon.api(f"uuid_kill {a}")


def test_dialplan_hunt_hook_answers_before_the_registered_dialplans(daemon):
    # mod_dptools answers the inline dialplan through the hook
    a = originate(daemon, "null/inl set:inline_hunted=yes,park inline")
    try:
        assert wait_until(lambda: getvar(daemon, a, "inline_hunted") == "yes")
    finally:
        daemon.api(f"uuid_kill {a}")
    # B answers "contract_hunt" although A's hunt hook raises first
    b = originate(daemon, "null/hunt 4242 contract_hunt")
    try:
        assert wait_until(lambda: getvar(daemon, b, "hunted_by") == "contract_b:4242")
        assert "hook fsd_dialplan_hunt failed: RuntimeError: boom from contract a (hunt)" in daemon.log_text()
    finally:
        daemon.api(f"uuid_kill {b}")


def test_unloading_a_leaves_every_interface_of_b(daemon):
    before = daemon.api("show modules")
    assert "endpoint,contract,mod_contract_a" in before and "endpoint,contract_b,mod_contract_b" in before
    assert daemon.api("unload mod_contract_a") == "+OK\n"
    after = daemon.api("show modules")
    assert "mod_contract_a" not in after
    b_rows = [r for r in before.splitlines() if r.endswith(",mod_contract_b,mod_contract_b")]
    assert len(b_rows) == 3
    for row in b_rows:
        assert row in after
    assert daemon.api("contract_b").strip() == "contract b"
    assert "contract_a" not in daemon.api("show api")
    assert daemon.api("load mod_contract_a") == "+OK\n"
