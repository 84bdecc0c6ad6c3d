"""The modem driver: AT engine, pure parsers, vendor quirks, device operations, recovery."""
