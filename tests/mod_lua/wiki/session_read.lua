-- Wiki "session:read" and "which terminator was pressed".  Adjustment: prompt path.
freeswitch.setGlobalVariable("wiki_read_ready", "1")
 digits = session:read(5, 10, "@WAV@", 3000, "#");                                                                                                           
 session:consoleLog("info", "Got dtmf: ".. digits .."\n");
freeswitch.setGlobalVariable("wiki_read1", digits)
 session:setVariable("read_terminator_used", "")
 digits = session:read(5, 10, "@WAV@", 3000, "*#")
 terminator = session:getVariable("read_terminator_used")
 session:consoleLog("info", "Got dtmf: " .. digits .. " terminator: " .. terminator .. "\n")
freeswitch.setGlobalVariable("wiki_read2", digits .. "|" .. terminator)
