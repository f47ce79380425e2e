-- Wiki "speak", "say", "streamFile" (and with a sample count).  Adjustment: the file
-- path /tmp/blah.wav.  ("flite" is not configured in fsd: speak logs that and returns.)
session:answer()
 session:set_tts_params("flite", "kal");
 session:speak("Please say the name of the person you're trying to contact");
 session:say("12345", "en", "number", "pronounced");
 session:streamFile("@WAV@");
 session:streamFile("@WAV@", 4000);
freeswitch.setGlobalVariable("wiki_tts_done", "1")
