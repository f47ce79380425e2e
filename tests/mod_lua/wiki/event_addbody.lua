-- Wiki "API Events / event:addBody".  Adjustments: the wiki's script assumes globals
-- dial_record_id, Disposition, Campaign and dial_num set earlier; they are set here.
dial_record_id, Disposition, Campaign, dial_num = "1234", "AA", "20", "7777777"
 --Create Custom event
 custom_msg =    "dial_record_id: " .. dial_record_id .. "\n" .. 
         "call_disposition: " .. Disposition .. "\n" ..
         "campaign_number: "  .. Campaign .. "\n" ..
         "called_number: "    .. dial_num .."\n"  ;  
         local e = freeswitch.Event("custom", "dial::dial-result");
 
         e:addBody(custom_msg);
         e:fire();
