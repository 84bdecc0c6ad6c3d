"""pigate: firmware of a plug-in GSM/VoIP gateway box."""

__version__ = "0.1.0"
