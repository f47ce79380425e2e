-- Wiki "freeswitch.bridge".  Adjustment: the dial strings (sofia/internal/1001%192.168.1.1
-- and 1002) → loopback destinations that answer.
 session1 = freeswitch.Session("loopback/answer/c");
 session2 = freeswitch.Session("loopback/answer/c");
freeswitch.setGlobalVariable("wiki_bridge_legs", session1:get_uuid() .. "|" .. session2:get_uuid())
 freeswitch.bridge(session1, session2);
freeswitch.setGlobalVariable("wiki_bridge_done", "1")
