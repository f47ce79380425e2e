-- Wiki "Example: Call Control".  Adjustments: dialA/dialB (sofia/gateway/fs1/9903,
-- user/1001) → loopback destinations; os.execute("sleep 1") kept.
 dialA = "loopback/answer/c"
 dialB = "loopback/answer/c"
 legA = freeswitch.Session(dialA)
 dispoA = "None"
 while(legA:ready() and dispoA ~= "ANSWER") do
   dispoA = legA:getVariable("endpoint_disposition")
   freeswitch.consoleLog("INFO","Leg A disposition is '" .. dispoA .. "'\n")
   os.execute("sleep 1")
 end -- legA while
 if( not legA:ready() ) then
   -- oops, lost leg A handle this case
   freeswitch.consoleLog("NOTICE","It appears that " .. dialA .. " disconnected...\n")
 else
   legB = freeswitch.Session(dialB)
   dispoB = "None"
   while(legA:ready() and legB:ready() and dispoB ~= "ANSWER") do
     if ( not legA:ready() ) then
       -- oops, leg A hung up or got disconnected, handle this case
       freeswitch.consoleLog("NOTICE","It appears that " .. dialA .. " disconnected...\n")
     else
       os.execute("sleep 1")
       dispoB = legB:getVariable("endpoint_disposition")
       freeswitch.consoleLog("NOTICE","Leg B disposition is '" .. dispoB .. "'\n")
     end -- inner if legA ready
   end -- legB while
   if ( legA:ready() and legB:ready() ) then
     freeswitch.setGlobalVariable("wiki_cc_legs", legA:get_uuid() .. "|" .. legB:get_uuid())
     freeswitch.bridge(legA,legB)
   else
     -- oops, one of the above legs hung up, handle this case
     freeswitch.consoleLog("NOTICE","It appears that " .. dialA .. " or " .. dialB .. " disconnected...\n")
   end
 end -- outter if legA ready
freeswitch.setGlobalVariable("wiki_cc_done", "1")
