-- The IVR of tests/mod_python/test_twin_ivr.py, in Lua (its twin is twin_ivr.py).
function twin_hook(s, what)
  local e = freeswitch.Event("CUSTOM", "twin::hook")
  e:addHeader("What", what)
  e:addHeader("Call", s:get_uuid())
  e:fire()
end

function twin_cb(s, what, obj)
  if what == "dtmf" then
    s:setVariable("twin_cb_digit", obj.digit)
    return "break"
  end
end

session:answer()
session:setHangupHook("twin_hook")
session:setInputCallback("twin_cb")
session:setVariable("twin_playing", "1")
session:streamFile("tone_stream://%(10000,0,440);loops=20")
session:unsetInputCallback()
local cb = session:getVariable("twin_cb_digit") or ""
session:setVariable("twin_wait_digits", "1")
local digits = session:getDigits(5, "#", 5000)

local dbh = freeswitch.Dbh("sqlite://twin_lua")
dbh:query("create table if not exists presses (cb text, digits text)")
dbh:query("insert into presses values ('" .. cb .. "', '" .. digits .. "')")
local n = 0
dbh:query("select count(*) as n from presses", function(row) n = row.n end)
dbh:release()

local e = freeswitch.Event("CUSTOM", "twin::result")
e:addHeader("Call", session:get_uuid())
e:addHeader("CB-Digit", cb)
e:addHeader("Digits", digits)
e:addHeader("Rows", tostring(n))
e:fire()
session:hangup()
