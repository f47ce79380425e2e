-- Wiki "API Events": message_waiting event.  Adjustments: none (the address is only data).
 local event = freeswitch.Event("message_waiting");
 event:addHeader("MWI-Messages-Waiting", "no");
 event:addHeader("MWI-Message-Account", "sip:1000@10.0.1.100");
 event:addHeader("Sofia-Profile", "internal");
 event:fire();
