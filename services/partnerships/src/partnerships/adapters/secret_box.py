"""The secret box: signing secrets sealed with the deployment's key before they are stored.

Keys rotate with `MultiFernet` (https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet):
`PARTNERSHIPS_WEBHOOK_SECRET_KEY` lists the keys newest first; the first seals, any of them opens, and
`reseal` moves a stored secret under the first key so the older ones can be dropped.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from partnerships.settings import PartnershipsSettings


class FernetBox:
    """Seals signing secrets with the deployment's key (Fernet: AES-128-CBC with HMAC-SHA256), so a copy of
    the database alone cannot sign webhooks. Secrets stored before a key was set are read as they are."""

    def __init__(self, *keys: str) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        self._newest = Fernet(keys[0].encode())
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a sealed webhook secret does not open with any of the configured keys") from exc

    def sealed_with_newest(self, sealed: str) -> bool:
        try:
            self._newest.decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the newest key (ValueError if no configured key opens it)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a sealed webhook secret does not open with any of the configured keys") from exc


@functools.cache
def _box(keys: tuple[str, ...]) -> FernetBox:
    return FernetBox(*keys)


def secret_box(settings: PartnershipsSettings) -> FernetBox | None:
    """The box for `PARTNERSHIPS_WEBHOOK_SECRET_KEY`, or None when secrets are stored as they are."""
    keys = settings.webhook_sealing_keys
    return _box(keys) if keys else None
