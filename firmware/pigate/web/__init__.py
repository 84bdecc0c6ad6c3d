"""The web side: the dashboard (static files in this package), the OzML playground, the JSON API /v1 with its
OpenAPI document and reference page, and /metrics."""

from pigate.web.compose import Web

__all__ = ["Web"]
