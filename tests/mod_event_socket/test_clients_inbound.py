"""Unmodified third-party ESL clients from PyPI against the real daemon (inbound)."""

from __future__ import annotations

import asyncio
import time

from fsd.events import Event


def test_greenswitch_api_bgapi_events(daemon):
    import gevent
    import greenswitch

    sw, port = daemon
    conn = greenswitch.InboundESL(host="127.0.0.1", port=port, password="ClueCon")
    conn.connect()
    try:
        assert conn.send("api version").data == sw.api_execute("version")
        got = []
        conn.register_handle("BACKGROUND_JOB", got.append)
        conn.register_handle("gs::test", got.append)
        assert conn.send("events plain BACKGROUND_JOB CUSTOM gs::test").data == \
            "+OK event listener enabled plain"
        r = conn.send("bgapi status")
        job = r.headers["Job-UUID"]
        e = Event("CUSTOM", "gs::test")
        e.add_header("Greeting", "hello world")
        sw.events.fire(e)
        end = time.time() + 5
        while len(got) < 2 and time.time() < end:
            gevent.sleep(0.05)
        names = sorted(ev.headers["Event-Name"] for ev in got)
        assert names == ["BACKGROUND_JOB", "CUSTOM"]
        bj = next(ev for ev in got if ev.headers["Event-Name"] == "BACKGROUND_JOB")
        assert bj.headers["Job-UUID"] == job
        cu = next(ev for ev in got if ev.headers["Event-Name"] == "CUSTOM")
        assert cu.headers["Greeting"] == "hello world"
    finally:
        conn.stop()


def test_greenswitch_wrong_password(daemon):
    import greenswitch

    conn = greenswitch.InboundESL(host="127.0.0.1", port=daemon[1], password="wrong")
    try:
        conn.connect()
        raise AssertionError("a wrong password was accepted")
    except ValueError as e:
        assert "Invalid password" in str(e)
    finally:
        conn._run = False
        conn.sock.close()


def test_genesis_consumer_with_filters(daemon):
    from genesis import Consumer

    sw, port = daemon

    async def main() -> list[dict]:
        app = Consumer("127.0.0.1", port, "ClueCon")
        seen: list[dict] = []
        done = asyncio.Event()

        @app.handle("genesis::wanted")
        async def on_wanted(event):
            seen.append(dict(event))
            if event.get("Last") == "yes":
                done.set()

        task = asyncio.create_task(app.start())
        await asyncio.sleep(0.5)  # auth + "events plain ALL" + filters
        for i, (sub, last) in enumerate([("genesis::other", "no"), ("genesis::wanted", "no"),
                                         ("genesis::other", "no"), ("genesis::wanted", "yes")]):
            e = Event("CUSTOM", sub)
            e.add_header("N", str(i))
            e.add_header("Last", last)
            sw.events.fire(e)
        await asyncio.wait_for(done.wait(), 5)
        await app.stop()
        task.cancel()
        try:
            await task
        except BaseException:
            pass
        return seen

    seen = asyncio.run(main())
    assert [s["N"] for s in seen] == ["1", "3"]
    assert all(s["Event-Subclass"] == "genesis::wanted" for s in seen)


def test_genesis_inbound_api_and_bgapi(daemon):
    from genesis import Inbound

    sw, port = daemon

    async def main():
        async with Inbound("127.0.0.1", port, "ClueCon") as client:
            r = await client.send("api version")
            jobs = []
            fut = asyncio.get_running_loop().create_future()

            async def on_job(ev):
                jobs.append(ev)
                if not fut.done():
                    fut.set_result(ev)

            client.on("BACKGROUND_JOB", on_job)
            await client.send("events plain BACKGROUND_JOB")
            reply = await client.send("bgapi status")
            ev = await asyncio.wait_for(fut, 5)
            return r, reply, ev

    r, reply, ev = asyncio.run(main())
    assert r.body == sw.api_execute("version")
    assert reply["Reply-Text"].startswith("+OK Job-UUID: ")
    assert ev["Job-UUID"] == reply["Job-UUID"]
    assert ev.body and "UP" in ev.body
