"""Registering and renaming factories, and the events they raise (pure rules, no I/O)."""

from datetime import UTC, datetime

import pytest

from registry.domain.factory import FactoryRuleError, register, rename

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_register_cleans_the_name_and_raises_registered() -> None:
    factory, event = register(name="  Golden   Thread\tCo., Ltd ", country="kh", address=None, now=NOW)
    assert factory.name == "Golden Thread Co., Ltd"
    assert factory.country == "KH"
    assert factory.version == 1
    assert (event.factory_id, event.version, event.name, event.country) == (factory.id, 1, factory.name, "KH")


def test_rename_bumps_the_version_and_carries_only_the_change() -> None:
    factory, _ = register(name="A", country="KH", address="Street 1", now=NOW)
    renamed, event = rename(factory, name="B", now=NOW)
    assert renamed.version == 2
    assert event is not None
    assert event.version == 2
    assert event.changes.model_dump(exclude_none=True) == {"name": "B"}


def test_rename_to_the_same_name_raises_nothing() -> None:
    factory, _ = register(name="A", country="KH", address=None, now=NOW)
    same, event = rename(factory, name=" A ", now=NOW)
    assert event is None
    assert same.version == 1


def test_blank_names_are_refused() -> None:
    with pytest.raises(FactoryRuleError):
        register(name="   ", country="KH", address=None, now=NOW)
