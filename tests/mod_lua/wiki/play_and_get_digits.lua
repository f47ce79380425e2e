-- Wiki "playAndGetDigits" examples.  Adjustments: prompt paths; the regexes, whose
-- backslashes the wiki page lost ("\nd+"), written "\\d+"; the transfer target
-- "operator XML default" → "xfer-target XML c".
freeswitch.setGlobalVariable("wiki_pagd_ready", "1")
 digits = session:playAndGetDigits(2, 5, 3, 3000, "#", "@WAV@", "@WAV@", "\\d+")
 session:consoleLog("info", "Got DTMF digits: ".. digits .."\n")
freeswitch.setGlobalVariable("wiki_pagd1", digits)
 digits = session:playAndGetDigits(2, 5, 3, 3000, "#", "@WAV@", "", "\\d+|\\*");
freeswitch.setGlobalVariable("wiki_pagd3", digits)
 digits = session:playAndGetDigits(1, 1, 3, 3000, "", "@WAV@", "@WAV@", "[134]", "digits_received", 3, "xfer-target XML c")
 session:consoleLog("info", "Got DTMF digits: ".. digits .."\n")
freeswitch.setGlobalVariable("wiki_pagd2", digits)
