-- Wiki "This is firing a custom event my::event", then the FSMan:fire example.
-- Adjustment: the page uses FSMan and Utils:trim without defining them; minimal
-- definitions are added before its code.
FSMan = {}
Utils = {}
function Utils:trim(s) if s == nil then return false end return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
 local event = freeswitch.Event("custom", "my::event");
 event:addHeader("My-Header", "test");
 event:fire();
 -- Send an event MESSAGE to a receiver
 function FSMan:fire(nameHeader, header, body) 
   local myEvent = freeswitch.Event("MESSAGE");
   nameHeader = Utils:trim(nameHeader); header = Utils:trim(header); body = Utils:trim(body);
   if (nameHeader == false ) then nameHeader="Generic_Name_Header" end
   if (header == false) then header="Header_Generic" end
   if (body == false) then body="Body_Generic" end
   myEvent:addHeader(nameHeader, header);
   myEvent:addBody(body);
   myEvent:fire();
 end
FSMan:fire(" Wiki-Name ", " wiki value ", nil)
