-- Wiki "Example call retry based on hangup cause".  Adjustment: the two gateway dial
-- strings originate_str1/originate_str12 (addresses), set to loopback destinations.
originate_str1 = "loopback/busy/c"
originate_str12 = "loopback/busy/c"
 session1 = null;
 max_retries1 = 3;
 retries = 0;
 ostr = "";
 repeat  
     retries = retries + 1;
     if (retries % 2) then ostr = originate_str1;
     else ostr = originate_str12; end
     freeswitch.consoleLog("notice", "*********** Dialing Leg1: " .. ostr .. " - Try: "..retries.." ***********\n");
     session1 = freeswitch.Session(ostr);
     local hcause = session1:hangupCause();
     freeswitch.consoleLog("notice", "*********** Leg1: " .. hcause .. " - Try: "..retries.." ***********\n");
 until not ((hcause == 'NO_ROUTE_DESTINATION' or hcause == 'RECOVERY_ON_TIMER_EXPIRE' or hcause == 'INCOMPATIBLE_DESTINATION' or hcause == 'CALL_REJECTED' or hcause == 'NORMAL_TEMPORARY_FAILURE') and (retries < max_retriesl1))
freeswitch.setGlobalVariable("wiki_retries", tostring(retries))
