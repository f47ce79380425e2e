-- Wiki "recordFile" example.  Adjustment: recording_dir '/tmp/' → a test directory.
-- (Its debug loop calls printSessionFunctions, which the page never defines: the callback
-- fails on the first DTMF, which is logged and ends the recording, as in FreeSWITCH.)
 function onInputCBF(s, _type, obj, arg)
     local k, v = nil, nil
     local _debug = true
     if _debug then
         for k, v in pairs(obj) do
             printSessionFunctions(obj)
             print(string.format('obj k-> %s v->%s\n', tostring(k), tostring(v)))
         end
         if _type == 'table' then
             for k, v in pairs(_type) do
                 print(string.format('_type k-> %s v->%s\n', tostring(k), tostring(v)))
             end
         end
         print(string.format('\n(%s == dtmf) and (obj.digit [%s])\n', _type, obj.digit))
     end
     if (_type == "dtmf") then
         return 'break'
     else
         return ''
     end
 end
  
 recording_dir = '@TMP@/'
 filename = 'myfile.wav'
 recording_filename = string.format('%s%s', recording_dir, filename)
 session:answer()
 freeswitch.setGlobalVariable("wiki_rec_ready", "1")
 if session:ready() then
     session:setInputCallback('onInputCBF', '');
     -- syntax is session:recordFile(file_name, max_len_secs, silence_threshold, silence_secs)
     max_len_secs = 30
     silence_threshold = 30
     silence_secs = 5
     test = session:recordFile(recording_filename, max_len_secs, silence_threshold, silence_secs);
     session:consoleLog("info", "session:recordFile() = " .. test )
 end
freeswitch.setGlobalVariable("wiki_rec_result", tostring(test))
