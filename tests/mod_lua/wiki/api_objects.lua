-- Wiki "freeswitch.API": getTime, executeString("version"), "sofia status".  Adjustment:
-- results stored for the test.
 api = freeswitch.API();
 -- get current time in milliseconds
 time = api:getTime()
 api = freeswitch.API();
 reply = api:executeString("version");
 api = freeswitch.API();
 sofia = api:executeString("sofia status");
freeswitch.setGlobalVariable("wiki_api", time .. "|" .. reply .. "|" .. sofia)
