"""The JSON API's one error body: RFC 9457 problem+json with the Ozeki status code inside, and its HTTP status."""

from __future__ import annotations

import json

from pigate.errors import ApiError, InvalidParameter

CONTENT_TYPE = "application/problem+json"

# Ozeki code -> HTTP status. A request the box understood but cannot carry out now is 4xx (422/409), never
# 5xx: a 5xx means the daemon itself failed.
HTTP_STATUS = {300: 400, 301: 404, 302: 422, 303: 409, 304: 401, 305: 401, 306: 403, 307: 403, 401: 422, 402: 409,
               501: 422, 601: 404, 701: 404, 702: 422, 703: 409}


class Problem(Exception):
    """An HTTP error of the JSON API that has no Ozeki code of its own (404 route, 405, 409 idempotency)."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: object) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def from_api_error(error: ApiError) -> Problem:
    extra: dict[str, object] = {"ozeki_code": error.code, "ozeki_name": error.name}
    if isinstance(error, InvalidParameter):
        extra["parameter"] = error.param
    return Problem(HTTP_STATUS.get(error.code, 400), error.name, error.message, **extra)


def render(problem: Problem) -> bytes:
    body = {"type": "/v1/reference#problems", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body.update(problem.extra)
    return json.dumps(body).encode()
