-- Wiki "used inside of a dialplan.lua": params:getHeader("variable_sip_req_uri"), plus the
-- serialize dumps ("Print as text", "Print as JSON") and the consoleLog form, run as the
-- xml-handler-script (globals XML_REQUEST and params).  Adjustment: the results are stored
-- in global variables so the test can see them.
local uri = params:getHeader("variable_sip_req_uri")
 -- Print as text
 io.write(params:serialize());
 io.write(params:serialize("text"));
 
 -- Print as JSON
 io.write(params:serialize("json"));
 freeswitch.consoleLog("info",params:serialize())
freeswitch.setGlobalVariable("wiki_params_uri", tostring(uri))
freeswitch.setGlobalVariable("wiki_params_json", params:serialize("json"))
