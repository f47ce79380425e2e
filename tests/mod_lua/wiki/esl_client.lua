-- Wiki "require("ESL")" example.  Adjustment: the port 8021 → the test daemon's event
-- socket port.  (con:api() returns an ESLevent, so the page's `"notice " ..
-- version_response_body` fails at line 15, in FreeSWITCH's ESL module as here.)
 require("ESL")
 --connect to freeswitch esl
 local con = ESL.ESLconnection("127.0.0.1", "@ESL_PORT@", "ClueCon");
 --if successful connection give notice in FS log and lua script
 if con:connected() == 1 then
     con:api("log","notice Lua ESL connected")
     print("connected!")
 end
 --send version command
 version_response_body = con:api("version")
 --log version number to freeswitch logfile
 con:api("log","notice " .. version_response_body)
 --print version to Lua output
 print("Your FS version is: " .. version_response_body)
freeswitch.setGlobalVariable("wiki_esl_version", version_response_body)
