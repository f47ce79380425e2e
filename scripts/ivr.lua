-- ivr.lua: the demo IVR of the default dialplan (extension 5000).
-- Answers, plays a prompt, collects up to 4 digits (end with #), looks the entry up in
-- a small SQLite table, announces the result with an event, and hangs up.
-- Works without sound files: the prompts are generated tones.

local PROMPT = "tone_stream://%(400,200,440);%(400,0,480)"
local OK_TONE = "tone_stream://%(200,0,660)"

-- setHangupHook takes the *name* of a global function, so this one must be global.
function ivr_hangup_hook(s, how)
  freeswitch.consoleLog("info", "ivr.lua: caller left (" .. how .. ")\n")
end

session:setHangupHook("ivr_hangup_hook")
session:answer()
session:sleep(200)

local dbh = freeswitch.Dbh("sqlite://ivr_demo")
dbh:test_reactive("select count(*) from ivr_options",
                  "drop table if exists ivr_options",
                  "create table ivr_options (digits text primary key, label text)")
dbh:query("insert or ignore into ivr_options values ('1', 'sales'), ('2', 'support'), "
          .. "('1234', 'operator')")

session:streamFile(PROMPT)
local digits = session:getDigits(4, "#", 5000, 3000)

local label = "unknown"
local ok, rows = dbh:query_rows("select label from ivr_options where digits = '"
                                .. digits:gsub("'", "''") .. "'")
if ok and rows[1] then label = rows[1].label end
dbh:release()

session:setVariable("ivr_choice", label)
if label ~= "unknown" then session:streamFile(OK_TONE) end

local ev = freeswitch.Event("CUSTOM", "ivr::choice")
ev:addHeader("IVR-Digits", digits)
ev:addHeader("IVR-Choice", label)
ev:addHeader("Unique-ID", session:get_uuid())
ev:fire()

freeswitch.consoleLog("notice", "ivr.lua: " .. session:get_uuid() .. " chose [" .. digits
                      .. "] -> " .. label .. "\n")
session:hangup()
