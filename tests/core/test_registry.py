"""Registries with owners, the service registry, and broadcast isolation, on a real
switch in this process (the daemon-level tests are in test_contract_daemon.py)."""

from __future__ import annotations

import pytest

import fsd
from fsd.module import ModuleInterface
from fsd.registry import NameTaken, Registry
from fsd.services import DATABASE, MAILER, ServiceKey
from fsd.testing import running_switch


class Item:
    def __init__(self, module: str) -> None:
        self.module = module


def test_registry_refuses_another_owners_name_and_removes_only_the_owners():
    r: Registry[Item] = Registry("endpoint")
    r.add("Loop", Item("mod_a"), "mod_a")
    r.add("loop", Item("mod_a"), "mod_a")  # the owner may replace its own entry
    r.add("loopback", Item("mod_b"), "mod_b")
    with pytest.raises(NameTaken) as e:
        r.add("LOOP", Item("mod_b"), "mod_b")
    assert str(e.value) == ("endpoint 'loop' is already registered by module mod_a; "
                            "module mod_b cannot register it")
    assert r.owner("loop") == "mod_a"
    assert r.remove_owned("mod_b", ["loop", "loopback"]) == ["loopback"]
    assert "loop" in r and "loopback" not in r
    with pytest.raises(fsd.module.ModuleLoadError):
        r.add("  ", Item("mod_a"), "mod_a")


def test_module_interfaces_clash_and_unload_on_a_switch(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        a = ModuleInterface("mod_a", sw)
        b = ModuleInterface("mod_b", sw)
        noop = lambda *args: None  # noqa: E731
        a.add_endpoint("chan", noop)
        a.add_api("a_api", "", "", noop)
        b.add_endpoint("chan2", noop)
        b.add_file_format("xyz", noop)
        b.add_service(ServiceKey("b.thing", object), object())
        with pytest.raises(NameTaken, match="api 'status' is already registered by module mod_commands; module mod_b"):
            b.add_api("status", "", "", noop)
        with pytest.raises(NameTaken, match="module mod_a; module mod_b"):
            b.add_endpoint("CHAN", noop)
        a.remove_interfaces()
        assert "chan" not in sw.endpoints and "a_api" not in sw.apis
        assert sw.endpoints["chan2"].module == "mod_b" and sw.file_formats["xyz"].module == "mod_b"
        assert sw.services.get(ServiceKey("b.thing", object)) is not None
        assert sw.apis["status"].module == "mod_commands"
        b.remove_interfaces()
        assert "chan2" not in sw.endpoints and "xyz" not in sw.file_formats
        assert sw.services.get(ServiceKey("b.thing", object)) is None


def test_services_are_typed_and_owned(tmp_path):
    class GoodMailer:
        def send(self, to, from_="", headers="", body="", file=None, convert_cmd=None,
                 convert_ext=None):
            return True

    with running_switch(tmp_path, ["mod_commands"]) as sw:
        m = ModuleInterface("mod_mail", sw)
        with pytest.raises(fsd.module.ModuleLoadError, match="service mailer must be a MailerService"):
            m.add_service(MAILER, object())
        m.add_service(MAILER, GoodMailer())
        assert sw.services.owner(MAILER) == "mod_mail"
        assert sw.services.get(DATABASE) is None
        other = ModuleInterface("mod_other", sw)
        with pytest.raises(NameTaken, match="service 'mailer' is already registered by module mod_mail"):
            other.add_service(MAILER, GoodMailer())
        assert sw.services.names() == [("mailer", "mod_mail")]
        m.remove_interfaces()
        assert sw.services.get(MAILER) is None


def test_broadcast_calls_each_module_on_its_own(tmp_path, capfd):
    calls = []

    class Raiser:
        @fsd.hookimpl
        def fsd_status_lines(self):
            calls.append("raiser")
            raise ValueError("raiser broke")

    class Fine:
        @fsd.hookimpl
        def fsd_status_lines(self, switch, module):
            calls.append("fine")
            return [f"fine {module is None}"]

    with running_switch(tmp_path, ["mod_commands"]) as sw:
        sw.modules.pm.register(Fine(), name="mod_fine")
        sw.modules.pm.register(Raiser(), name="mod_raiser")  # called first (last registered)
        lines = sw.api_execute("status").splitlines()
        assert calls == ["raiser", "fine"]
        assert "fine True" in lines and any(ln.startswith("channels by state:") for ln in lines)
    log = (tmp_path / "log" / "fsd.log").read_text()
    assert "module mod_raiser: hook fsd_status_lines failed: ValueError: raiser broke" in log


def test_first_result_skips_a_raising_module_and_stops_at_the_first_answer(tmp_path):
    class Raiser:
        @fsd.hookimpl
        def fsd_dialplan_hunt(self, dialplan):
            raise RuntimeError("no")

    class Answers:
        @fsd.hookimpl
        def fsd_dialplan_hunt(self, dialplan, args):
            return [("park", args)] if dialplan == "mine" else None

    with running_switch(tmp_path, ["mod_commands"]) as sw:
        sw.modules.pm.register(Answers(), name="answers")
        sw.modules.pm.register(Raiser(), name="raiser")
        assert sw.modules.first_result("fsd_dialplan_hunt", switch=sw, session=None,
                                       dialplan="mine", args="x") == [("park", "x")]
        assert sw.modules.first_result("fsd_dialplan_hunt", switch=sw, session=None,
                                       dialplan="other", args="") is None


def test_contract_version_is_exported():
    assert fsd.CONTRACT_VERSION >= (1, 1)
    assert fsd.hookspecs.CONTRACT_VERSION == fsd.CONTRACT_VERSION


def test_a_modules_file_format_is_read_by_playback(tmp_path):
    """add_file_format fills switch.file_formats, and playback opens .ext files with it
    (before the built-in formats); after the module goes, the extension is unknown."""
    import numpy as np

    from fsd.media.files import AudioReader
    from fsd.testing import EventLog, originate, wait_until

    opened: list[str] = []

    class Tone(AudioReader):
        def __init__(self, path: str, rate: int) -> None:
            self.path, self.rate, self.length, self.pos = path, rate, rate // 5, 0

        def read(self, n: int) -> np.ndarray:
            k = max(0, min(n, self.length - self.pos))
            self.pos += k
            return np.full(k, 1000, dtype=np.int16)

        def tell(self) -> int:
            return self.pos

    def reader(path: str, rate: int) -> Tone:
        opened.append(path)
        return Tone(path, rate)

    sound = tmp_path / "beep.fsdtone"
    sound.write_bytes(b"")
    with running_switch(tmp_path / "base", ["mod_commands", "mod_dptools", "mod_loopback"]) as sw:
        log = EventLog(sw)
        fmt = ModuleInterface("mod_fmt", sw)
        fmt.add_file_format(".FSDTONE", reader)
        assert sw.file_formats["fsdtone"].module == "mod_fmt"
        uuid, out = originate(sw, f"null/fmt &playback({sound})")
        assert uuid, out
        done = log.wait("CHANNEL_EXECUTE_COMPLETE", uuid, Application="playback")
        assert done[0].get_header("Application-Response") == "FILE PLAYED"
        assert opened == [str(sound)]
        sw.api_execute(f"uuid_kill {uuid}")
        fmt.remove_interfaces()
        uuid, out = originate(sw, f"null/fmt2 &playback({sound})")
        done = log.wait("CHANNEL_EXECUTE_COMPLETE", uuid, Application="playback")
        assert done[0].get_header("Application-Response") == "PLAYBACK ERROR"
        assert opened == [str(sound)]
        sw.api_execute(f"uuid_kill {uuid}")
        assert wait_until(lambda: not sw.sessions)


def test_the_core_classes_satisfy_the_contract_protocols(tmp_path):
    """What fsd hands a module has every member its Protocol in fsd/interfaces.py lists."""
    from fsd.api import Stream
    from fsd.interfaces import ChannelTech, OutgoingRequestLike, SessionLike, StreamLike
    from fsd.session import Endpoint

    seen: dict[str, object] = {}

    class Spy:
        @fsd.hookimpl
        def fsd_outgoing_channel(self, leg, request):
            seen["leg"], seen["request"], seen["tech"] = leg, request, leg.tech

    assert isinstance(Stream(), StreamLike) and isinstance(Endpoint(), ChannelTech)
    with running_switch(tmp_path, ["mod_commands", "mod_dptools", "mod_loopback"]) as sw:
        sw.modules.pm.register(Spy(), name="spy")
        from fsd.testing import originate, wait_until

        uuid, out = originate(sw, "null/proto &park()")
        assert uuid, out
        assert isinstance(seen["leg"], SessionLike)
        assert isinstance(seen["request"], OutgoingRequestLike)
        assert isinstance(seen["tech"], ChannelTech)
        sw.api_execute(f"uuid_kill {uuid}")
        assert wait_until(lambda: not sw.sessions)
