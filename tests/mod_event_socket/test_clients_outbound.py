"""Outbound mode driven by unmodified PyPI libraries: greenswitch's OutboundESLServer and
Genesis' Outbound server each control a real loopback call."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]
DIALPLAN = """<include><context name="default">
  <extension name="esl_out"><condition field="destination_number" expression="^esl_lib_(\\d+)$">
    <action application="socket" data="127.0.0.1:$1 async full"/></condition></extension>
</context></include>
"""


@pytest.fixture(scope="module")
def daemon(esl, tmp_path_factory):
    base = tmp_path_factory.mktemp("esl_out_libs")
    with esl.esl_daemon(base, modules=MODULES,
                        extra_files={"conf/dialplan/00_esl_lib.xml": DIALPLAN}) as d:
        yield d


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def settle(pred, timeout=10.0) -> bool:
    end = time.time() + timeout
    while time.time() < end and not pred():
        time.sleep(0.05)
    return pred()


def test_greenswitch_outbound_server_controls_a_call(daemon):
    import gevent
    import greenswitch

    sw, _ = daemon
    port = free_port()
    result: dict = {}

    class App:
        def __init__(self, session):
            self.session = session

        def run(self):
            s = self.session
            result["dest"] = s.session_data.get("Channel-Destination-Number")
            result["uuid"] = s.uuid
            s.myevents()
            result["answer"] = s.answer()
            result["var"] = s.send("getvar socket_host").data
            s.send("sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING")
            gevent.sleep(0.3)
            result["done"] = True

    server = greenswitch.OutboundESLServer(bind_address="127.0.0.1", bind_port=port,
                                           application=App, max_connections=5)

    def serve():
        g = gevent.spawn(server.listen)
        while not result.get("done") and not result.get("stop"):
            gevent.sleep(0.05)
        server.stop()
        g.join(timeout=5)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    time.sleep(0.3)
    out = sw.api_execute("originate", f"loopback/esl_lib_{port} &park")
    assert settle(lambda: result.get("done"), 15), (out, result)
    result["stop"] = True
    t.join(10)
    assert result["dest"] == f"esl_lib_{port}"
    assert result["answer"] == "+OK"
    assert result["var"] == "127.0.0.1"
    assert settle(lambda: not sw.sessions)


def test_genesis_outbound_server_controls_a_call(daemon):
    from genesis import Outbound

    sw, _ = daemon
    port = free_port()
    result: dict = {}

    async def handler(session):
        result["dest"] = session.context.get("Channel-Destination-Number")
        r = await session.sendmsg("execute", "answer")
        result["answer"] = r.get("Reply-Text")
        r = await session.sendmsg("execute", "sleep", "100", block=True, timeout=5)
        result["sleep_done"] = r.get("Event-Name")
        r = await session.sendmsg("hangup", "NORMAL_CLEARING")
        result["hangup"] = r.get("Reply-Text")
        result["done"] = True

    async def main():
        app = Outbound(handler, "127.0.0.1", port)
        await app.start(block=False)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(None, sw.api_execute, "originate",
                                         f"loopback/esl_lib_{port} &park")
        end = time.time() + 15
        while not result.get("done") and time.time() < end:
            await asyncio.sleep(0.05)
        await app.stop()
        return out

    out = asyncio.run(main())
    assert result.get("done"), (out, result)
    assert result["dest"] == f"esl_lib_{port}"
    assert result["answer"] == "+OK"
    assert result["sleep_done"] == "CHANNEL_EXECUTE_COMPLETE"
    assert result["hangup"] == "+OK"
    assert settle(lambda: not sw.sessions)
