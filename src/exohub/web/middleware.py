"""ASGI middleware: refuse oversized bodies before they are read, and set protective headers."""

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exohub.web.errors import PROBLEM_JSON


class BodySizeLimit:
    """Answer 413 when a request body exceeds ``max_bytes`` (declared or streamed).

    A ``multipart/form-data`` request to a path that ``large_body_paths`` matches (file uploads: model files,
    session recordings) is exempt and its route must enforce its own limit while streaming to disk; any other
    body to those paths (a urlencoded form would be read whole into memory) keeps the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, large_body_paths: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large_body_paths = large_body_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if (
            self.large_body_paths
            and headers.get(b"content-type", b"").startswith(b"multipart/form-data")
            and self.large_body_paths.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"The request body is larger than the {self.max_bytes} bytes this endpoint accepts.",
                "instance": scope["path"],
            }
        ).encode()
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):  # noqa: N818 - internal signal
    pass


class SecurityHeaders:
    """Add headers that stop framing, MIME sniffing and referrer leaks on every response."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    )

    # /docs and /redoc start Swagger UI and ReDoc (served from the package) with an inline script.
    CSP_EXEMPT_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.CSP_EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
