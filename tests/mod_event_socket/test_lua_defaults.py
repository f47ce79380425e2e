"""The shipped lua.conf.xml caps a script's memory and CPU (issue 19): a table-growth loop
run through the event socket, as a user would, is stopped by the default cap, the daemon
keeps answering, and its memory comes back."""

from __future__ import annotations

import psutil

GROW = ("api lua ~local t = {} while true do t[#t + 1] = string.rep('x', 4096) .. #t end\n\n")


def test_table_growth_is_stopped_by_the_default_cap(tmp_path, esl):
    with esl.esl_daemon(tmp_path, modules=["mod_commands", "mod_event_socket", "mod_lua"]) as (sw, port):
        me = psutil.Process()
        with esl.RawClient(port) as c, esl.RawClient(port) as logs:
            logs.auth()
            assert logs.cmd("log err").startswith(b"Content-Type: command/reply\nReply-Text: +OK")
            c.auth()
            c.cmd("api version")
            base = me.memory_info().rss
            c.sock.settimeout(120)
            c.send(GROW)
            headers, body, _ = c.frame()
            assert headers["Content-Type"] == "api/response"
            assert body == b"-ERR Cannot execute script\n"  # FreeSWITCH's text; why: the log
            logs.sock.settimeout(10)
            text = b""
            while b"not enough memory" not in text:
                h, b, _ = logs.frame()
                text += b
            c.send("api status\n\n")
            assert c.frame()[1].startswith(b"UP ")
            grown = me.memory_info().rss - base
            # 256 MiB of Lua heap was allowed; what stays afterwards is far less than that.
            assert grown < 96 * 1024 * 1024, grown
