"""SIP through pjsua2 (the only package that imports it)."""
