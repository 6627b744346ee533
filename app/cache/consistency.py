"""Consistency tokens: read-your-writes through any instance while near tiers catch up (docs/caching.md).

A write's invalidation gets a sequence number from Redis (its broadcast's). The response carries it in the
`X-Consistency-Token` header and the `mp_ct` cookie; a read presenting a token newer than the last broadcast
its process applied skips the near tier and reads Redis, which is always current.

The token is known only after the commit, when FastAPI has already built the response, so the write's
hook leaves it in the ASGI scope and `ConsistencyTokenMiddleware` adds it as the response starts.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_HEADER = "X-Consistency-Token"
TOKEN_COOKIE = "mp_ct"
TOKEN_MAX_AGE = 300  # seconds; a token matters for milliseconds (until every process applied its broadcast)
_SCOPE_KEY = "app.cache.consistency_token"
_HEADER = TOKEN_HEADER.lower().encode()
_COOKIE = TOKEN_COOKIE.encode() + b"="
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def record_token(scope: Scope, seq: int) -> None:
    """The write's invalidation got `seq`: its response will carry it."""
    scope[_SCOPE_KEY] = max(seq, scope.get(_SCOPE_KEY, 0))


def _number(raw: bytes) -> int:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= 20 else 0


def presented_token(scope: Scope) -> int:
    """The token a request presents (the header, else the cookie); 0 when none (or not a number)."""
    cookie = 0
    for key, value in scope["headers"]:
        if key == _HEADER:
            return _number(value)
        if key == b"cookie" and _COOKIE in value:
            for part in value.split(b";"):
                part = part.strip()
                if part.startswith(_COOKIE):
                    cookie = _number(part[len(_COOKIE) :])
    return cookie


class ConsistencyTokenMiddleware:
    """Adds the token a write's invalidation recorded to its response (reads pass straight through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start" and (seq := scope.get(_SCOPE_KEY)):
                token = str(seq).encode()
                cookie = b"%s%s; Max-Age=%d; Path=/; HttpOnly; Secure; SameSite=Lax" % (_COOKIE, token, TOKEN_MAX_AGE)
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (_HEADER, token), (b"set-cookie", cookie)],
                }
            await send(message)

        await self.app(scope, receive, send_with_token)
