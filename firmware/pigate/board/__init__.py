"""Board support: status LEDs and the modem power key."""
