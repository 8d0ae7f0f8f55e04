"""Errors: the server's error reply as an exception carrying its code (docs/PROTOCOL.md,
"Errors"), plus the client's own `unavailable` (connection dropped or refused) and `timeout`."""
from __future__ import annotations

from typing import Any, Mapping, Optional

#: every code the server sends, and the two the client adds
CODES = ('bad_request', 'bad_dimension', 'too_large', 'unknown_op', 'not_found', 'overloaded',
         'unauthorized', 'unavailable', 'moved', 'internal', 'timeout')


class HoloError(Exception):
    """An error reply (`code`, `message`, the whole `reply`), or a client-side failure."""

    def __init__(self, code: str, message: str, reply: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(f'{code}: {message}')
        self.code = code
        self.message = message
        self.reply = dict(reply) if reply is not None else None

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> 'HoloError':
        err = reply.get('error')
        if not isinstance(err, Mapping):
            return cls('internal', f'malformed error reply: {reply!r}'[:200], reply)
        return cls(str(err.get('code')), str(err.get('message')), reply)
