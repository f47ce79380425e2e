-- Wiki "Get digits".  Adjustment: the result is stored for the test.
session:answer()
freeswitch.setGlobalVariable("wiki_gd_ready", "1")
 digits = session:getDigits(5, "#", 3000);
 session:consoleLog("info", "Got dtmf: ".. digits .."\n");
freeswitch.setGlobalVariable("wiki_gd_digits", digits)
