"""Media: text to speech, audio files, DTMF helpers shared by GSM and SIP legs."""
