-- Wiki "Web page interaction (via mod_xml_rpc)": lua/api.lua.  Adjustments: none (the test
-- runs it through the lua API with the form's `command` in env, as mod_xml_rpc would).
 stream:write("Content-Type: text/html\n\n");
 stream:write("<title>FreeSWITCH Command Portal</title>");
 stream:write("<h2>FreeSWITCH Command Portal</h2>");
 stream:write("<form method=post><input name=command size=40> ");
 stream:write("<input type=submit value=\"Execute\">");
 stream:write("</form><hr noshade size=1><br>");
 command = env:getHeader("command");
 if (command) then
   api = freeswitch.API();
   reply = api:executeString(command);
   if (reply) then
     stream:write("<br><B>Command Result</b><br><pre>" .. reply .. "</pre>\n");
   end
 end
 env:addHeader("cool", "true");
 stream:write(env:serialize() .. "\n\n");
