-- Wiki "API Sessions": answer, bridged, consoleLog, get_uuid, getState, getVariable list,
-- setVariable, sleep, preAnswer.  Adjustments: the wiki's `if (...) do` is not valid Lua
-- (it is `then` in Lua); R() stores results for the test.
local function R(k, v) freeswitch.setGlobalVariable("wiki_basics_" .. k, tostring(v)) end
 session:preAnswer();
 session:answer();
 if (session:bridged() == true) then
     -- Do something
     R("bridged", "yes")
 end
 session:consoleLog("info",   "lua rocks\n");
 session:consoleLog("notice", "lua rocks\n");
 session:consoleLog("err",    "lua rocks\n");
 session:consoleLog("debug",  "lua rocks\n");
 session:consoleLog("warning","lua rocks\n");
 state=session:getState();
 local moh = session:getVariable("hold_music")
 --[[ events obtained from "switch_channel.c"
  regards Monroy from Mexico
 ]]  
         session:getVariable("context");
     session:getVariable("destination_number");
     session:getVariable("caller_id_name");
     session:getVariable("caller_id_number");
     session:getVariable("network_addr");
     session:getVariable("ani");
     session:getVariable("aniii");
     session:getVariable("rdnis");
     session:getVariable("source");
     session:getVariable("chan_name");
     session:getVariable("uuid");
 session:setVariable("varname", "varval");
 session:sleep(300);
R("state", state) R("uuid", session:get_uuid()) R("dest", session:getVariable("destination_number"))
R("varname", session:getVariable("varname"))
