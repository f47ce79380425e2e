-- Wiki "my_cb" input callback.  Adjustment: the file path /tmp/swimp.raw → a WAV in the
-- test directory.  (Its event branch calls add_body/get_body, which FreeSWITCH's Event
-- does not have either; the test sends DTMF.)
 function my_cb(s, type, obj, arg)
    if (arg) then
       io.write("type: " .. type .. "\n" .. "arg: " .. arg .. "\n");
    else
       io.write("type: " .. type .. "\n");
    end
    if (type == "dtmf") then
       io.write("digit: [" .. obj['digit'] .. "]\nduration: [" .. obj['duration'] .. "]\n");
       freeswitch.setGlobalVariable("wiki_cb_digit", obj['digit'] .. "|" .. arg)
    else
       io.write(obj:serialize("xml"));
       e = freeswitch.Event("message");
       e:add_body("you said " .. obj:get_body());
       session:sendEvent(e);
    end
 end
 blah="w00t";
 session:answer();
 session:setInputCallback("my_cb", "blah");
 freeswitch.setGlobalVariable("wiki_cb_ready", "1")
 session:streamFile("@WAV@");
