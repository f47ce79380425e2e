-- Wiki "sayPhrase with setInputCallback".  Adjustments: none (the test daemon's language
-- file has a voicemail_menu macro).
 function key_press(session, input_type, data, args)
   if input_type == "dtmf" then
     session:consoleLog("info", "Key pressed: " .. data["digit"])
     freeswitch.setGlobalVariable("wiki_key", data["digit"])
     return "break"
   end
 end
 if session:ready() then
   session:answer()
   session:execute("sleep", "1000")
   session:setInputCallback("key_press", "")
   session:sayPhrase("voicemail_menu", "1:2:3:#", "en")
 end
freeswitch.setGlobalVariable("wiki_key_done", "1")
