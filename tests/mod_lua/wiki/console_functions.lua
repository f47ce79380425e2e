-- Wiki "consoleCleanLog" and "consoleLog".  Adjustments: none.
 freeswitch.consoleCleanLog("This Rocks!!!\n");
 freeswitch.consoleLog("info",   "lua rocks\n");
 freeswitch.consoleLog("notice", "lua rocks\n");
 freeswitch.consoleLog("err",    "lua rocks\n");
 freeswitch.consoleLog("debug",  "lua rocks\n");
 freeswitch.consoleLog("warning","lua rocks\n");
