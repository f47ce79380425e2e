"""§9 Dbh (SQLite through mod_db), §11 IVRMenu, freeswitch.bridge / email, require("ESL")."""

from __future__ import annotations

from fsd.log import ERR
from fsd.testing import wait_until


def errors(logs):
    return [r.text for r in logs if r.level <= ERR]


def test_dbh_query_callback_rows_and_null(daemon):
    name, a, b = daemon.run("""session:answer()
local dbh = freeswitch.Dbh("sqlite://lua_t1")
R("connected", dbh:connected())
dbh:query("drop table if exists t")
dbh:query("create table t (id integer, name text)")
dbh:query("insert into t values (1, 'a'), (2, NULL), (3, 'c')")
R("affected", dbh:affected_rows())
local seen = {}
R("q", dbh:query("select * from t order by id", function(row)
  seen[#seen + 1] = row.id .. "=" .. row.name
end))
R("seen", table.concat(seen, ","))
local n = 0
dbh:query("select * from t order by id", function(row) n = n + 1 if n == 2 then return 1 end end)
R("stopped", n)
n = 0
dbh:query("select * from t", function(row) n = n + 1 return "0" end)
R("zero_continues", n)
local ok, rows, err = dbh:query_rows("select * from t order by id")
R("qr_ok", ok) R("qr_n", #rows) R("qr_null", tostring(rows[2].name)) R("qr_err", err)
R("sel_keeps_affected", dbh:affected_rows())
R("bad", dbh:query("select * from no_such_table"))
R("last_error", dbh:last_error() ~= nil)
dbh:clear_error() R("cleared", dbh:last_error())
local ok2, rows2, err2 = dbh:query_rows("")
R("empty_err", err2)
local okt, et = pcall(dbh.query, dbh, "select 1", {})
R("typeerr", et)
R("release", dbh:release()) R("release2", dbh:release())
R("connected_after", dbh:connected())
""")
    assert daemon.result(name, "connected") == "true"
    assert daemon.result(name, "affected") == "3"
    assert daemon.result(name, "q") == "true"
    assert daemon.result(name, "seen") == "1=a,2=,3=c"
    assert daemon.result(name, "stopped") == "2"
    assert daemon.result(name, "zero_continues") == "3"
    assert daemon.result(name, "qr_ok") == "true"
    assert daemon.result(name, "qr_n") == "3"
    assert daemon.result(name, "qr_null") == "nil"
    assert daemon.result(name, "qr_err") == "nil"
    assert daemon.result(name, "sel_keeps_affected") == "3"
    assert daemon.result(name, "bad") == "false"
    assert daemon.result(name, "last_error") == "true"
    assert daemon.result(name, "cleared") == "nil"
    assert daemon.result(name, "empty_err") == "Missing SQL query."
    assert "function expected, got table" in daemon.result(name, "typeerr")
    assert daemon.result(name, "release") == "true"
    assert daemon.result(name, "release2") == "false"
    assert daemon.result(name, "connected_after") == "false"


def test_dbh_callback_error_logged_and_stops(daemon, logs):
    name, a, b = daemon.run("""session:answer()
local dbh = freeswitch.Dbh("sqlite://lua_t2")
dbh:query("create table if not exists u (x integer)")
dbh:query("delete from u") dbh:query("insert into u values (1), (2), (3)")
local n = 0
R("q", dbh:query("select * from u", function(row) n = n + 1 error("row cb failed") end))
R("n", n)
""")
    assert daemon.result(name, "q") == "true"
    assert daemon.result(name, "n") == "1"
    assert any("row cb failed" in t and f"{name}.lua:6" in t for t in errors(logs))


def test_dbh_released_at_script_end_and_bad_dsn(daemon, logs):
    name, a, b = daemon.run("""session:answer()
local dbh = freeswitch.Dbh("sqlite://lua_t3")
R("owned", #"x")
R("held", dbh:connected())
local bad = freeswitch.Dbh("nosuchdriver://x")
R("bad", bad:connected())
""")
    assert daemon.result(name, "held") == "true"
    assert daemon.result(name, "bad") == "false"
    assert any("DBH NOT Connected" in t for t in errors(logs))
    from fsd.services import DATABASE

    mgr = daemon.sw.services.get(DATABASE).manager
    # nothing is leased by any lua run once its script has ended
    assert wait_until(lambda: not [o for o, leases in mgr._owners.items()
                                   if str(o).startswith("lua:") and leases], 3)


def test_ivrmenu_exec_app_and_exit(daemon):
    name, a, b = daemon.run("""
session:answer()
local top = freeswitch.IVRMenu(nil, "top", "tone_stream://%(200,0,350)", nil, "tone_stream://%(50,0,600)",
  "", "", "", "", "", "", 0, 1000, 1, 2000, 2, 2)
local sub = freeswitch.IVRMenu(top, "sub", "tone_stream://%(100,0,400)", "", "", "", "", "", "", "",
  "", 0, 1000, 1, 2000, 2, 2)
top:bindAction("menu-exec-app", "set menu_pressed_1=yes", "1")
top:bindAction("menu-sub", "sub", "2")
top:bindAction("menu-exit", "", "*")
top:bindAction("menu-say-phrase", "x", "9")
sub:bindAction("menu-exec-app", "set in_sub=yes", "5")
sub:bindAction("menu-back", "", "#")
R("ready", 1)
top:execute(session, "top")
R("status", session:getVariable("ivr_menu_status"))
R("p1", session:getVariable("menu_pressed_1")) R("sub", session:getVariable("in_sub"))
""")
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 125#*")
    assert daemon.result(name, "status", 10) == "success"
    assert daemon.result(name, "p1") == "yes"
    assert daemon.result(name, "sub") == "yes"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_ivrmenu_failures_invalid_menu_and_arg_count(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local m = freeswitch.IVRMenu(nil, "m", "", "", "", "", "", "", "", "", "", 0, 100, 1, 150, 2, 2)
m:bindAction("menu-exit", "", "1")
m:execute(session, "m")
R("status", session:getVariable("ivr_menu_status"))
m:execute(session, "nope")
local ok, e = pcall(freeswitch.IVRMenu, nil, "x", "", "", "", "", "", "", "", "", 0, 1, 1, 1, 1, 1)
R("argc", e)
""")
    assert daemon.result(name, "status") == "failure"
    assert daemon.result(name, "argc") == "Error in new_IVRMenu expected 17..17 args, got 16"
    texts = errors(logs)
    assert any("Invalid Menu!" in t for t in texts)
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_ivrmenu_invalid_action_logged(daemon, logs):
    name, a, b = daemon.run("""
local m = freeswitch.IVRMenu(nil, "", "", "", "", "", "", "", "", "", "", 0, 0, 0, 0, 0, 0)
m:bindAction("menu-say-phrase", "x", "1")
R("done", 1)
session:answer()
""")
    assert daemon.result(name, "done") == "1"
    assert any("invalid action" in t for t in errors(logs))
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_freeswitch_bridge(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local leg = freeswitch.Session("loopback/parked/t")
R("leg", leg:get_uuid())
freeswitch.bridge(session, leg)
R("after", session:getVariable("last_bridge_to"))
freeswitch.bridge(session, freeswitch.Session())
""")
    leg = daemon.result(name, "leg")
    assert leg
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} bridge_to") == leg)
    daemon.sw.api_execute(f"uuid_kill {leg}")
    assert daemon.result(name, "after") == leg
    assert wait_until(lambda: any("Channels not ready" in t for t in errors(logs)))
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_email_arguments(lua_daemon_api):
    out = lua_daemon_api('~stream:write(tostring(freeswitch.email("", "x")))')
    assert out == "false"
    out = lua_daemon_api('~local ok, e = pcall(freeswitch.email, "a@b") stream:write(e)')
    assert out == "Error in email expected 2..7 args, got 1"


def test_require_esl(lua_daemon_api):
    out = lua_daemon_api("""~require("ESL")
local e = ESL.ESLevent("CUSTOM", "lua::esl")
e:addHeader("X", "1")
local c = ESL.ESLconnection("127.0.0.1", "1", "ClueCon")
stream:write(e:getHeader("X") .. "|" .. tostring(c:connected()) .. "|" .. tostring(freeswitch.ESLconnection))""")
    assert out == "1|0|nil"
