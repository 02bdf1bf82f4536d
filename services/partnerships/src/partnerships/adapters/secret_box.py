"""The secret box: signing secrets sealed with the deployment's key before they are stored."""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken

from partnerships.settings import PartnershipsSettings


class FernetBox:
    """Seals signing secrets with the deployment's key (Fernet: AES-128-CBC with HMAC-SHA256), so a copy of
    the database alone cannot sign webhooks. Secrets stored before a key was set are read as they are."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a sealed webhook secret does not open with this key") from exc


@functools.cache
def _box(key: str) -> FernetBox:
    return FernetBox(key)


def secret_box(settings: PartnershipsSettings) -> FernetBox | None:
    """The box for `PARTNERSHIPS_WEBHOOK_SECRET_KEY`, or None when secrets are stored as they are."""
    key = settings.webhook_secret_key
    return _box(key.get_secret_value()) if key is not None else None
