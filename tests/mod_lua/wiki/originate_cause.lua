-- Wiki "hangupCause of an originated call".  Adjustment: the dial string
-- (sofia/192.168.0.4/1002 → a loopback destination that answers busy).
 -- Initiate an outbound call
 obSession = freeswitch.Session("loopback/busy/c")
 
 -- Check to see if the call was answered
 if obSession:ready() then
     -- Do something good here
 else    -- This means the call was not answered ... Check for the reason
     local obCause = obSession:hangupCause()
     freeswitch.consoleLog("info", "obSession:hangupCause() = " .. obCause )
     if ( obCause == "USER_BUSY" ) then              -- SIP 486
        -- For BUSY you may reschedule the call for later
        freeswitch.setGlobalVariable("wiki_cause", obCause)
     elseif ( obCause == "NO_ANSWER" ) then
        -- Call them back in an hour
     elseif ( obCause == "ORIGINATOR_CANCEL" ) then   -- SIP 487
        -- May need to check for network congestion or problems
     else
        -- Log these issues
     end
 end
