-- Wiki "EventConsumer" examples with a session loop and the poll() ping function.
-- Adjustment: the dial string sofia/default/dest@host.com → a loopback destination.
 con = freeswitch.EventConsumer("all");
 session = freeswitch.Session("loopback/answer/c");
 freeswitch.setGlobalVariable("wiki_loop_leg", session:get_uuid())
 local n = 0
 while session:ready() do
   session:execute("sleep", "200");
   for e in (function() return con:pop() end) do
     print("event\n" .. e:serialize("xml"));
     n = n + 1
   end
 end
 freeswitch.setGlobalVariable("wiki_loop_events", tostring(n))
 -- wait for a specific event but continue after 500 ms
 function poll()
   -- create event and listener
   local event = freeswitch.Event("CUSTOM", "ping::running?")
   local con = freeswitch.EventConsumer("CUSTOM", "ping::running!")
   -- add text ad libitum
   event:addHeader("hi", "there")
   -- fire event
   event:fire()
   -- and wait for reply but not very long
   if con:pop(1, 500) then
     print("reply received")
     return true
   end
   print("no reply")
   return false
 end
freeswitch.setGlobalVariable("wiki_poll", tostring(poll()))
