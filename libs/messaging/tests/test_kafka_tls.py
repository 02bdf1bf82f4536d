"""Kafka over TLS with client certificates, as Strimzi's TLS listener asks (issue "Deployable per country").

Tansu speaks plaintext, so the test puts a TLS-terminating proxy in front of it that demands a client
certificate signed by the test CA, and makes Tansu advertise the proxy's address: every connection a client
makes, bootstrap and broker alike, goes through TLS. The consumer, topic creation and the readiness check use
the same `KafkaSecurity` the services build from `KAFKA_SECURITY_PROTOCOL` and `KAFKA_SSL_*`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry

from betterwork_contracts import EVENTS
from betterwork_contracts.events.registry import FactoryRegistered
from devstack.broker import TansuBroker
from devstack.net import free_port
from devstack.pytest_plugin import TestPlatform
from devstack.testkit.events import cloudevent_headers
from devstack.testkit.waiting import wait_until
from messaging.consumer import ConsumerConfig, EventConsumer
from messaging.envelope import Envelope
from messaging.metrics import MessagingMetrics
from messaging.runtime import consumer_config
from servicekit.database import Database, UnitOfWork
from servicekit.health import broker_check
from servicekit.kafka_security import KafkaSecurity, kafka_security


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0] if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("test cluster CA", ca_key, None)
    ca_cert, _ = _write(folder, "ca", ca, ca_key)
    paths = {"ca": ca_cert}
    for who in ("broker", "assessments"):
        key = ec.generate_private_key(ec.SECP256R1())
        paths[f"{who}_cert"], paths[f"{who}_key"] = _write(folder, who, _issue(who, key, (ca.subject, ca_key)), key)
    return paths


@contextlib.asynccontextmanager
async def tls_broker(pki: dict[str, str]) -> AsyncIterator[str]:
    """Tansu behind a TLS proxy that requires a client certificate of the CA; yields the TLS address."""
    tls_port, plain_port = free_port(), free_port()
    broker = TansuBroker(port=plain_port, advertised_port=tls_port)
    broker.start()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki["ca"])
    context.load_cert_chain(pki["broker_cert"], pki["broker_key"])
    context.verify_mode = ssl.CERT_REQUIRED
    writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", plain_port)
        writers.update({writer, upstream_writer})
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", tls_port, ssl=context)
    try:
        yield f"127.0.0.1:{tls_port}"
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        broker.stop()


async def test_services_speak_tls_with_a_client_certificate_and_nothing_else_gets_in(
    test_platform: TestPlatform, pki: dict[str, str], topic_prefix: str
) -> None:
    security = kafka_security(
        test_platform.settings(
            "assessments",
            kafka_security_protocol="SSL",
            kafka_ssl_cafile=pki["ca"],
            kafka_ssl_certfile=pki["assessments_cert"],
            kafka_ssl_keyfile=pki["assessments_key"],
        )
    )
    assert security == KafkaSecurity("SSL", pki["ca"], pki["assessments_cert"], pki["assessments_key"])
    handled: list[uuid.UUID] = []

    async def record(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
        handled.append(event.factory_id)

    async def seen() -> list[uuid.UUID]:
        return handled

    async with tls_broker(pki) as address:
        # readiness: with the certificate the broker answers; without one, or in plaintext, it does not
        await broker_check(address, 5, security)()  # raises when the broker does not answer
        with pytest.raises(Exception):  # noqa: B017 - the TLS handshake or the bootstrap fails, either way
            await broker_check(address, 3, KafkaSecurity("SSL", pki["ca"]))()
        with pytest.raises(Exception):  # noqa: B017
            await broker_check(address, 3)()

        topic = f"{topic_prefix}registry.factory"
        database = Database(
            test_platform.settings("assessments").service_database_url(), schema="assessments", pool_size=2
        )
        consumer = EventConsumer(
            ConsumerConfig(
                group=f"{topic_prefix}tls",
                bootstrap_servers=address,
                topics=[topic],
                topic_partitions={topic: 2},
                session_timeout_ms=3000,
                topic_prefix=topic_prefix,
                security=security,  # topic creation and the dead-letter producer go through TLS too
            ),
            database=database,
            handlers={FactoryRegistered.type: record},
            event_types=EVENTS,
            metrics=MessagingMetrics(CollectorRegistry()),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        producer = AIOKafkaProducer(bootstrap_servers=address, acks="all", **security.client_options())
        await producer.start()
        try:
            event = FactoryRegistered(
                factory_id=uuid.uuid4(), version=1, country="KH", name="Over TLS", registered_at=dt.datetime.now(dt.UTC)
            )
            await producer.send_and_wait(
                topic,
                event.model_dump_json().encode(),
                key=event.aggregate_id.encode(),
                headers=cloudevent_headers(event, source="/registry"),
            )
            assert await wait_until(seen, bool, timeout=60) == [event.factory_id]
        finally:
            await producer.stop()
            stop.set()
            await asyncio.wait_for(task, 30)
            await database.dispose()


def test_the_runtime_hands_the_settings_security_to_the_consumer(
    test_platform: TestPlatform, pki: dict[str, str]
) -> None:
    settings = test_platform.settings("assessments", kafka_security_protocol="SSL", kafka_ssl_cafile=pki["ca"])
    config = consumer_config(settings, {FactoryRegistered.type: lambda uow, event, envelope: asyncio.sleep(0)})
    assert config.security == KafkaSecurity("SSL", pki["ca"])
    assert isinstance(config.security.client_options()["ssl_context"], ssl.SSLContext)
    with pytest.raises(ValueError, match="both"):
        KafkaSecurity("SSL", pki["ca"], certfile=pki["assessments_cert"])
