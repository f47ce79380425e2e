-- Wiki "Create a new session" (+ transfer) and "with execute_on_answer".  Adjustments: the
-- dial strings sofia/10.0.1.100/1001 → loopback; the transfer target 3000 XML default →
-- xfer-target XML c.
 local session = freeswitch.Session("loopback/answer/c");
 freeswitch.setGlobalVariable("wiki_ns_uuid", session:get_uuid())
 session:transfer("xfer-target", "XML", "c");
 local session = freeswitch.Session("[execute_on_answer=info notice]loopback/answer/c");
 freeswitch.setGlobalVariable("wiki_ns_eoa", tostring(session:getVariable("execute_on_answer")))
