-- Wiki "freeswitch.email" example.  Adjustments: the addresses (receiver@bar.com,
-- sender@foo.com kept: they only travel to the test's SMTP server), the attachment path
-- message.wav → a test file, and the converter program mp3enc (not installed) → cp.
local ok = freeswitch.email("receiver@bar.com", "sender@foo.com", "subject: Voicemail from 1234\n", "Hello,\n\nYou've got a voicemail, click the attachment to listen to it.", "@TMP@/message.wav", "cp", "mp3")
freeswitch.setGlobalVariable("wiki_email", tostring(ok))
