-- Wiki "session:execute(app, data)".  Adjustment: the sound file path.
 local mySound = "@WAV@"
 session:execute("playback", mySound)
freeswitch.setGlobalVariable("wiki_exec_done", session:getVariable("playback_samples") or "none")
