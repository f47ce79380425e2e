-- Wiki "This is a generic API call": event:getHeader("Caller-Caller-ID-Name"), run as a
-- lua.conf.xml <hook> script (the global `event`).  Adjustment: the value is stored in a
-- global variable so the test can see it.
local v = event:getHeader("Caller-Caller-ID-Name")
freeswitch.setGlobalVariable("wiki_hook_cid", tostring(v))
