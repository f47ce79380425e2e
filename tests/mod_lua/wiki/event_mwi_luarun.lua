-- Wiki "Using luarun to execute this code you can toggle the MWI".  Adjustments: none.
 local event = freeswitch.Event("message_waiting");                                                                                                              
 event:addHeader("MWI-Messages-Waiting", "no");                                                                                                                 
 event:addHeader("MWI-Message-Account", "sip:1002@10.0.1.100");                                                                                                 
 event:fire();
