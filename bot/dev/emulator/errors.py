"""Bot API errors as the emulator answers them.

``ApiError`` carries the HTTP status, Telegram's description and the optional
``parameters`` object (``retry_after`` for 429). Every layer (validation,
formatting, rate limits, method implementations) raises it; the HTTP server
turns it into Telegram's envelope ``{"ok": false, "error_code", "description"}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API call that Telegram would refuse."""

    def __init__(self, status: int, description: str, *, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def conflict(reason: str) -> ApiError:
    return ApiError(409, f"Conflict: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


def not_implemented(method: str) -> ApiError:
    return ApiError(501, f"Not Implemented by the emulator: {method}")
