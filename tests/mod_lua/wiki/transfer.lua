-- Wiki "session:transfer".  Adjustment: the destination "3000 XML default" → the test
-- dialplan's "xfer-target XML c".
 session:transfer("xfer-target", "XML", "c");
freeswitch.setGlobalVariable("wiki_transfer_after", tostring(session:ready()))
