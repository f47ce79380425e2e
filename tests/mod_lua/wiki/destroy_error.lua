-- Wiki "s:destroy("error message")".  Adjustment: run on the script's own session.
session:answer()
s = session
s:destroy("error message");
freeswitch.setGlobalVariable("wiki_destroy_never", "reached")
