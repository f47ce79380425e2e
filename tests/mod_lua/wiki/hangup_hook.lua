-- Wiki "setHangupHook".  Adjustments: none.  (db_conn is never defined on the page: the
-- hook's db_conn:close() fails, which is logged, as the hook's error() would be; the
-- script goes on.)
 function myHangupHook(s, status, arg)
     freeswitch.consoleLog("NOTICE", "myHangupHook: " .. status .. "\n")
     -- close db_conn and terminate
     db_conn:close()
     error()
 end
 
 blah="w00t";
 session:setHangupHook("myHangupHook", "blah")
session:answer()
session:hangup()
freeswitch.setGlobalVariable("wiki_hook_after", "still running")
