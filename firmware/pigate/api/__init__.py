"""Ozeki-compatible HTTP API: the /api command frame, XML answers, authentication."""
