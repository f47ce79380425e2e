-- Wiki "EventConsumer" usage (single and multiple subscriptions).  Adjustments: none; the
-- results are stored for the test.
 con = freeswitch.EventConsumer("CUSTOM","wiki::consumer");
 -- pop() returns an event or nil if no events
 local a = con:pop()
 freeswitch.setGlobalVariable("wiki_consumer_ready", "1")
 -- pop(1) blocks until there is an event
 local b = con:pop(1)
 -- pop(1,500) blocks for max half a second until there is an event
 local c = con:pop(1,500)
 con = freeswitch.EventConsumer();
 con:bind("RELOADXML");
 con:bind("SHUTDOWN");
 con:bind("CUSTOM", "multicast::event");
 local d = con:pop(1,500)
freeswitch.setGlobalVariable("wiki_consumer", tostring(a) .. "|" .. b:getHeader("Event-Subclass") .. "|" .. tostring(c) .. "|" .. tostring(d))
