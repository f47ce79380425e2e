-- Wiki "session:insertFile".  Adjustment: file paths (foo.wav, bar.wav under a test dir).
session:answer()
 -- On a ulaw channel, insert bar.wav one second into foo.wav:
 session:insertFile("@TMP@/foo.wav", "@TMP@/bar.wav", 8000)
 
 -- Prepend bar.wav to foo.wav:
 session:insertFile("@TMP@/foo.wav", "@TMP@/bar.wav", 0)
 
 -- Append bar.wav to foo.wav:
 session:insertFile("@TMP@/bar.wav", "@TMP@/foo.wav", 0)
freeswitch.setGlobalVariable("wiki_insert_done", "1")
