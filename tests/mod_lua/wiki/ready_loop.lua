-- Wiki "session:ready" loop.  Adjustment: a sleep in the loop body ("do something here"),
-- so the loop does not spin; it ends when the far end hangs up.
session:answer()
freeswitch.setGlobalVariable("wiki_loop", "in")
 while (session:ready() == true) do                                                                                                                              
    -- do something here                                                                                                                                              
    session:sleep(50)
 end 
freeswitch.setGlobalVariable("wiki_loop", "out")
