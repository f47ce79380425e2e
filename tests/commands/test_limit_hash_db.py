"""mod_hash (hash API/app, hash_dump, hash_remote), the key-value db API/app, the limit
subsystem with its hash and db backends, the limit apps and APIs — through a running daemon,
compared with mod_hash.c / mod_db.c / mod_dptools.c / mod_commands.c texts."""

from __future__ import annotations

import pytest

from fsd.testing import EventLog, wait_until


@pytest.mark.parametrize("cmd,out", [
    ("hash insert/r1/k1/v1", "+OK\n"),
    ("hash select/r1/k1", "v1"),
    ("hash insert/r1/k1/a/b", "+OK\n"),          # the value keeps its slashes
    ("hash select/r1/k1", "a/b"),
    ("hash insert_ifempty/r1/k1/x", "-ERR key already exists\n"),
    ("hash insert_ifempty/r1/k2/x", "+OK\n"),
    ("hash delete_ifmatch/r1/k2/y", "-ERR Doesn't match\n"),
    ("hash delete_ifmatch/r1/k2/x", "+OK\n"),
    ("hash delete_ifmatch/r1/k2/x", "-ERR Not found\n"),
    ("hash delete/r1/k1", "+OK\n"),
    ("hash delete/r1/k1", "-ERR Not found\n"),
    ("hash select/r1/k1", ""),
    ("hash", "-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n"),
    ("hash insert/r1", "-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n"),
    ("hash insert/r1/k1", "-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n"),
    ("hash bogus/r1/k1", "-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n"),
    ("hash_dump", "Usage: all|limit|db [<realm>]\n"),
    ("hash_dump nope", "Usage: all|limit|db [<realm>]\n"),
    ("hash_remote", "-ERR Usage: list|kill [name]|rescan\n"),
    ("hash_remote list", "Remote connections:\nName\t\t\tState\n+OK\n"),
    ("hash_remote kill", "-ERR Usage: list|kill [name]|rescan\n"),
    ("hash_remote kill n1", "-ERR No such remote instance n1\n"),
    ("hash_remote rescan", "+OK\n"),
])
def test_hash_api(daemon, cmd, out):
    assert daemon.api(cmd) == out


def test_hash_dump_and_realm_filter(daemon):
    daemon.api("hash insert/dumpA/k/1")
    daemon.api("hash insert/dumpB/k/2")
    assert "D/dumpA_k/1\n" in daemon.api("hash_dump db")
    only_a = daemon.api("hash_dump db dumpA")
    assert "D/dumpA_k/1\n" in only_a and "dumpB" not in only_a


def test_hash_app_from_dialplan(daemon):
    a, b = daemon.app("hash", "insert/appr/key/from-app")
    assert daemon.api("hash select/appr/key") == "from-app"
    # bad input only logs the usage; the dialplan goes on
    a2, b2 = daemon.app("hash", "insert/appr")
    daemon.kill(a, a2)


@pytest.mark.parametrize("cmd,out", [
    ("db insert/realm1/k1/v1", "+OK"),
    ("db insert/realm1/k2/it's", "+OK"),
    ("db select/realm1/k2", "it's"),
    ("db insert/realm1/k1/v2", "+OK"),            # replaces
    ("db select/realm1/k1", "v2"),
    ("db exists/realm1/k1", "true"),
    ("db exists/realm1/nope", "false"),
    ("db count/realm1", "2"),
    ("db list/realm1", "k1,k2"),
    ("db delete/realm1/k2", "+OK"),
    ("db count/realm1", "1"),
    ("db select/realm1/k2", ""),
    ("db", "!err!"),
    ("db insert/realm1/k", "!err!"),
    ("db select/realm1", "!err!"),
    ("db count/a/b", "!err!"),
    ("db frob/a/b", "!err!"),
])
def test_db_api(daemon, cmd, out):
    got = daemon.api(cmd)
    if cmd.startswith("db list"):  # SQL "select distinct" without an order, as mod_db
        got, out = sorted(got.split(",")), sorted(out.split(","))
    assert got == out


def test_db_list_and_count_realms(daemon):
    daemon.api("db insert/zrealm/a/1")
    assert "zrealm" in daemon.api("db list").split(",")
    assert int(daemon.api("db count")) >= 2


def test_db_app_from_dialplan(daemon):
    a, b = daemon.app("db", "insert/dbapp/key/val")
    assert daemon.api("db select/dbapp/key") == "val"
    a2, b2 = daemon.app("db", "delete/dbapp/key")
    assert daemon.api("db exists/dbapp/key") == "false"
    daemon.kill(a, a2)


def test_limit_hash_caps_concurrent_calls_per_realm(daemon):
    events = EventLog(daemon.sw)
    a1, b1, _ = daemon.call("limited-sales")
    a2, b2, _ = daemon.call("limited-sales")
    assert a1 and a2
    assert daemon.var(b1, "limit_usage") == "1" and daemon.var(b2, "limit_usage") == "2"
    assert daemon.var(b2, "limit_usage_sales_calls") == "2"
    assert daemon.var(b2, "limit_backend") == "hash"
    assert daemon.api("limit_usage hash sales calls") == "2"
    assert daemon.api("limit_usage hash sales calls rate") == "2/0"
    assert "L/sales_calls/2/0/0/0\n" in daemon.api("hash_dump limit")
    # another realm has its own count
    a4, b4, _ = daemon.call("limited-support")
    assert a4 and daemon.api("limit_usage hash support calls") == "1"
    # the third call to the realm is transferred to limit_exceeded, which hangs up USER_BUSY
    _, _, out = daemon.call("limited-sales")
    assert out == "-ERR USER_BUSY\n"
    assert daemon.api("limit_usage hash sales calls") == "2"
    usage = events.wait("CUSTOM", backend="hash", realm="sales")
    assert {e.get_header("usage") for e in usage} >= {"1", "2"}
    assert usage[0].get_header("Event-Subclass") == "limit::usage"
    # a hangup releases the resource
    daemon.kill(a1)
    assert wait_until(lambda: daemon.api("limit_usage hash sales calls") == "1")
    a3, b3, _ = daemon.call("limited-sales")
    assert a3
    daemon.kill(a2, a3, a4)
    assert wait_until(lambda: daemon.api("limit_usage hash sales calls") == "0")
    assert "sales_calls" not in daemon.api("hash_dump limit")


def test_limit_db_backend_hangup_cause(daemon):
    a1, b1, _ = daemon.call("dblimited-ops")
    assert a1 and daemon.var(b1, "limit_usage") == "1"
    assert daemon.var(b1, "limit_max") == "1" and daemon.var(b1, "limit_realm") == "ops"
    assert daemon.api("limit_usage db ops calls") == "1"
    assert daemon.api("limit_usage ops calls") == "1"   # deprecated form: db backend
    assert daemon.api("limit_status db").startswith("Tracking 1 resources for hostname ")
    _, _, out = daemon.call("dblimited-ops")
    assert out == "-ERR CALL_REJECTED\n"
    daemon.kill(a1)
    assert wait_until(lambda: daemon.api("limit_usage db ops calls") == "0")


def test_limit_execute_releases_after_the_app(daemon):
    a, b, _ = daemon.call("limex-rx")
    assert daemon.wait_var(b, "limex_ran") == "yes"
    assert daemon.wait_var(b, "after_limex") == "1"
    assert daemon.api("limit_usage hash rx ex") == "0"
    daemon.kill(a)


@pytest.mark.parametrize("cmd,out", [
    ("limit_usage", "USAGE: limit_usage <backend> <realm> <id> [rate]\n"),
    ("limit_usage nosuch r i", "0"),
    ("limit_status", "USAGE: limit_status <backend>\n"),
    ("limit_status hash", "-ERR not supported yet (locking problems)."),
    ("limit_status nosuch", "-ERR"),
    ("limit_reset", "USAGE: limit_reset <backend>\n"),
    ("limit_reset hash", "-ERR"),
    ("limit_reset nosuch", "-ERR"),
    ("limit_interval_reset hash a", "USAGE: limit_interval_reset <backend> <realm> <resource>\n"),
    ("limit_interval_reset hash a b", "+OK"),
    ("limit_hash_usage", "USAGE: limit_hash_usage <realm> <id> [rate] (Using deprecated limit api, "
                         "check limit_usage with backend param)\n"),
    ("limit_hash_usage none none", "0"),
])
def test_limit_apis(daemon, cmd, out):
    assert daemon.api(cmd) == out


def test_limit_reset_db_and_show_limits(daemon):
    assert daemon.api("limit_reset db") == "+OK"
    shown = daemon.api("show limits")
    assert shown.startswith("type,name,ikey\n")
    assert "limit,db,mod_db\n" in shown and "limit,hash,mod_hash\n" in shown
    assert shown.endswith("\n2 total.\n")


def test_limit_with_unknown_backend_or_bad_args_goes_on(daemon):
    # an unknown backend fails the increment: the call goes to limit_exceeded, as FreeSWITCH
    n = next(daemon._n)
    daemon.sw.globals.set(f"app_data_{n}", "nosuch r i 1")
    a, b, out = daemon.call(f"app-limit-{n}")
    assert daemon.gone(b)
    a2, b2 = daemon.app("limit", "hash r")
    a3, b3 = daemon.app("limit_execute", "hash r i")
    a4, b4 = daemon.app("limit_hash", "r i 1")
    assert daemon.var(b4, "limit_usage") == "_undef_"
    daemon.kill(a, a2, a3, a4)


def test_unload_mod_hash_removes_the_backend(tmp_path):
    from fsd.testing import running_switch

    with running_switch(tmp_path, ["mod_commands", "mod_hash"]) as sw:
        assert "limit,hash,mod_hash" in sw.api_execute("show limits")
        assert sw.api_execute("unload mod_hash").startswith("+OK")
        assert "hash" not in sw.api_execute("show limits")
        assert sw.api_execute("limit_usage hash a b") == "0"
        assert sw.api_execute("load mod_hash").startswith("+OK")
        assert sw.api_execute("hash insert/a/b/c") == "+OK\n"


def test_transfer_releases_unless_limit_ignore_transfer(daemon):
    a, b, _ = daemon.call("limited-xfer1")
    assert daemon.api("limit_usage hash xfer1 calls") == "1"
    assert daemon.api(f"uuid_transfer {b} park XML t").startswith("+OK")
    assert wait_until(lambda: daemon.api("limit_usage hash xfer1 calls") == "0")
    assert daemon.var(b, "limit_backend") == "_undef_"
    daemon.kill(a)
    a, b, _ = daemon.call("limited-xfer2")
    daemon.api(f"uuid_setvar {b} limit_ignore_transfer true")
    assert daemon.api(f"uuid_transfer {b} park XML t").startswith("+OK")
    assert wait_until(lambda: daemon.var(b, "destination_number") == "park")
    assert daemon.api("limit_usage hash xfer2 calls") == "1"
    daemon.kill(a)
    assert wait_until(lambda: daemon.api("limit_usage hash xfer2 calls") == "0")


def test_hash_rate_limit_and_interval_reset(daemon):
    a1, b1, _ = daemon.call("park")
    a2, b2, _ = daemon.call("park")
    a3, b3, _ = daemon.call("park")
    assert daemon.api(f"uuid_limit {b1} hash rate k 2/60 nomatch") == "+OK"
    assert daemon.api(f"uuid_limit {b2} hash rate k 2/60 nomatch") == "+OK"
    assert daemon.var(b2, "limit_rate") == "2"
    assert daemon.api("limit_usage hash rate k rate") == "2/2"
    # the third within the interval is over the rate: transferred away (to "nomatch")
    assert daemon.api(f"uuid_limit {b3} hash rate k 2/60 !CALL_REJECTED") == "+OK"
    assert daemon.gone(b3)
    assert daemon.api("limit_interval_reset hash rate k") == "+OK"
    assert daemon.api("limit_usage hash rate k rate") == "2/0"
    daemon.kill(a1, a2, a3)
