-- Wiki "session:originate is deprecated": the recommended form, then the historic one.
-- Adjustments: dial strings (sofia/gateway/... → loopback), dest defined, and the
-- pseudo-syntax "dest[, timeout]" written as dest, 30.  The historic dot-call form fails
-- in FreeSWITCH too (behaviour reference §4.2, WIKI≠SRC): it is run under pcall.
dest = "loopback/answer/c"
new_session = freeswitch.Session("loopback/answer/c", session);
freeswitch.setGlobalVariable("wiki_new_ready", tostring(new_session:ready()))
local ok, err = pcall(function()
 -- this usage of originate is deprecated, use freeswitch.Session(dest, session)
 new_session = freeswitch.Session();
 new_session.originate(session, dest, 30);
end)
freeswitch.setGlobalVariable("wiki_old_err", tostring(err))
