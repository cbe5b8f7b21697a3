"""Login: who may use the chat page and the HTTP API.

A login is a user name and password (``rag serve --auth USER:PASSWORD``), a token
(``RAG_API_TOKEN``), or both. The page asks for the user name and password (or any user
name and the token); the API takes ``Authorization: Basic`` with the same user name and
password, or ``Authorization: Bearer <token>`` — what OpenAI clients send as their API
key. With no login (allowed only on a loopback address) anyone may use both.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Login:
    credentials: tuple[str, str] | None = None
    token: str = ""

    def __bool__(self) -> bool:
        return bool(self.credentials or self.token)

    def __repr__(self) -> str:  # never show a secret in logs or tracebacks
        user = self.credentials[0] if self.credentials else None
        return f"Login(user={user!r}, token={'set' if self.token else 'unset'})"

    def page_accepts(self, user: str, password: str) -> bool:
        """The page's login form: the user name and password, or the token as password."""
        if self.credentials and _same(user, self.credentials[0]) \
                and _same(password, self.credentials[1]):
            return True
        return bool(self.token) and _same(password, self.token)

    def allows(self, authorization: str) -> bool:
        """Whether an ``Authorization`` header carries this login (anything does when no
        login is set)."""
        if not self:
            return True
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return bool(self.token) and _same(value, self.token)
        if scheme.lower() == "basic" and self.credentials:
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode(
                    "utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return bool(sep) and _same(user, self.credentials[0]) \
                and _same(password, self.credentials[1])
        return False


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
