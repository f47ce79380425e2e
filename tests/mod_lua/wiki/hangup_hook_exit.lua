-- Wiki "Other possibilities to exit the script": return "exit" from the hook (and
-- s:destroy("error message")).  Adjustment: the page gives only the statements; they are
-- put in a hook function.
function myHangupHook(s, status, arg)
  freeswitch.setGlobalVariable("wiki_exit_hook", status)
  return "exit";
end
session:setHangupHook("myHangupHook")
session:answer()
session:hangup()
freeswitch.setGlobalVariable("wiki_exit_never", "reached")
