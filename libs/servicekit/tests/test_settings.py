from typing import ClassVar

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ORDERS_")
    service_name: ClassVar[str] = "orders"
    default_port: ClassVar[int] = 8100


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "COUNTRY", "PORT", "ORDERS_PORT", "ORDERS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_give_the_service_its_port_role_and_schema() -> None:
    settings = OrdersSettings()
    assert settings.port == 8100
    assert settings.role == "bw_orders"
    assert settings.db_schema == "orders"


def test_shared_variables_apply_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:secret@db.example:5432/bw")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    settings = OrdersSettings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    url = settings.service_database_url()
    # The service never logs in with the provisioning user's credentials.
    assert (url.username, url.password, url.host, url.database) == ("bw_orders", None, "db.example", "bw")
    assert url.drivername == "postgresql+asyncpg"


def test_prefixed_variable_wins_over_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@shared:5432/bw")
    monkeypatch.setenv("ORDERS_DATABASE_URL", "postgresql://postgres@own:5432/orders_db")
    monkeypatch.setenv("ORDERS_DB_PASSWORD", "s3cret")
    url = OrdersSettings().service_database_url()
    assert (url.host, url.database, url.password) == ("own", "orders_db", "s3cret")


def test_service_only_settings_are_not_read_unprefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "1234")  # common in PaaS environments; must not move every service
    assert OrdersSettings().port == 8100
    monkeypatch.setenv("ORDERS_PORT", "9100")
    assert OrdersSettings().port == 9100


def test_country_is_normalised_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTRY", "kh")
    assert OrdersSettings().country == "KH"
    monkeypatch.setenv("COUNTRY", "Cambodia")
    with pytest.raises(ValidationError, match="alpha-2"):
        OrdersSettings()


def test_database_url_must_be_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/bw")
    with pytest.raises(ValidationError, match="not a PostgreSQL URL"):
        OrdersSettings()
