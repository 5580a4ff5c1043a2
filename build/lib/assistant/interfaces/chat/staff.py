"""Staff logins for the chat: scrypt password hashes (stdlib only) and the `name:hash,...` user list.

A hash looks like `scrypt$16384$8$1$<salt b64>$<key b64>`; only hashes are ever configured or stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MB and ~50 ms per check on one core
_KEY_BYTES = 32
_NAME = re.compile(r"^[\w.@-]{1,64}$")


class StaffUsersError(ValueError):
    """OPENBAAR_STAFF_USERS cannot be parsed."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A self-describing scrypt hash of `password` with a random 16-byte salt."""
    salt = salt if salt is not None else os.urandom(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_KEY_BYTES)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=2**26,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def parse_staff_users(value: str) -> dict[str, str]:
    """`name:hash,name:hash` -> {name: hash}; raises StaffUsersError naming the bad entry."""
    users: dict[str, str] = {}
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        name, sep, encoded = entry.partition(":")
        if not sep or not _NAME.match(name) or not encoded.startswith("scrypt$") or encoded.count("$") != 5:
            shown = name if _NAME.match(name) else "?"
            raise StaffUsersError(f"entry for {shown!r} is not name:scrypt-hash")
        users[name] = encoded
    return users


_DUMMY = hash_password("not a password", salt=b"\0" * 16)


def check_login(users: dict[str, str], name: str, password: str) -> bool:
    """Whether name/password is a staff login; an unknown name costs as much time as a wrong password."""
    encoded = users.get(name)
    ok = verify_password(password, encoded or _DUMMY)
    return ok and encoded is not None
