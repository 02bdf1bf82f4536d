"""How every Kafka client of the platform connects: plaintext (the development broker) or TLS with a client
certificate (Strimzi's TLS listener with a KafkaUser per service, see `deploy/README.md`).

One value, built from the settings (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SSL_CAFILE`, `KAFKA_SSL_CERTFILE`,
`KAFKA_SSL_KEYFILE`), handed to the relay, the consumer, topic creation, the readiness check and the
dead-letter tool, so none of them can connect differently from the others.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: Literal["PLAINTEXT", "SSL"] = "PLAINTEXT"
    cafile: str | None = None  # the cluster CA that signed the brokers' certificates
    certfile: str | None = None  # this client's certificate (mutual TLS), with
    keyfile: str | None = None  # its private key

    def __post_init__(self) -> None:
        if self.protocol == "SSL" and bool(self.certfile) != bool(self.keyfile):
            raise ValueError("a client certificate needs both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE")

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the broker against `cafile` (or the system's CAs) and presents the client certificate."""
        context: ssl.SSLContext = create_ssl_context(cafile=self.cafile, certfile=self.certfile, keyfile=self.keyfile)
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin, bare client)."""
        if self.protocol == "PLAINTEXT":
            return {}
        return {"security_protocol": "SSL", "ssl_context": self.ssl_context()}


PLAINTEXT = KafkaSecurity()


def kafka_security(settings: Any) -> KafkaSecurity:
    """From a service's settings (`ServiceSettings` or anything with the same `kafka_*` fields)."""
    return KafkaSecurity(
        protocol=settings.kafka_security_protocol,
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
    )
