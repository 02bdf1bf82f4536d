"""The factory record's rules and the events they raise (pure, no I/O)."""

import uuid
from datetime import UTC, datetime

import pytest

from registry.domain.enrolment import Status
from registry.domain.factory import (
    Contact,
    FactoryRuleError,
    Sector,
    merge,
    normalise_os_id,
    os_id_check_character,
    register,
    update,
)
from registry.domain.merging import EnrolmentConflict, check_enrolments

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _factory(**values: object):  # type: ignore[no-untyped-def]
    return register(country="kh", values={"name": "Golden Thread", "address": "Street 1", **values}, now=NOW)


def test_register_cleans_text_and_announces_the_basic_profile_without_contacts() -> None:
    factory, event = register(
        country="kh",
        values={
            "name": "  Golden   Thread\tCo., Ltd ",
            "address": " Plot 12,  Phnom Penh SEZ ",
            "aliases": ["GT", " GT ", "Golden Thread Co., Ltd"],
            "sector": "garment",
            "contacts": (Contact(name="Sokha", email="sokha@example.com"),),
            "os_id": "kh-2019303-bq3fz-r",
        },
        now=NOW,
    )
    assert factory.name == "Golden Thread Co., Ltd"
    assert factory.address == "Plot 12, Phnom Penh SEZ"
    assert factory.country == "KH"
    assert factory.aliases == ("GT",)  # duplicates and the legal name itself dropped
    assert factory.sector is Sector.GARMENT
    assert factory.version == 1
    assert event.profile is not None
    assert event.profile.sector == "garment"
    assert "contacts" not in event.model_dump()
    assert "contacts" not in event.profile.model_dump()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("CN2019303BQ3FZP", True),  # Open Supply Hub's documented example
        ("CN-2019303-BQ3FZ-P", True),  # printed form
        ("cn2019303bq3fzp", True),
        ("CN2019303BQ3FZQ", False),  # wrong check character
        ("CN2019303BQ3FZ", False),  # too short
        ("XX2019303BQ3FZP", False),  # not a country
        ("CN2019303BQ3FUP", False),  # U is not a Crockford base-32 symbol
    ],
)
def test_os_ids_are_checked_with_their_check_character(value: str, accepted: bool) -> None:
    if accepted:
        assert normalise_os_id(value) == "CN2019303BQ3FZP"
    else:
        with pytest.raises(FactoryRuleError) as caught:
            normalise_os_id(value)
        assert caught.value.field == "os_id"


def test_the_check_character_follows_open_supply_hub() -> None:
    assert os_id_check_character("CN2019303BQ3FZ") == "P"


@pytest.mark.parametrize(
    ("workforce", "problem"),
    [
        ({"workers_total": 100, "workers_women": 70, "workers_men": 20}, "must equal the total"),
        ({"workers_total": 100, "workers_migrants": 120}, "exceed the total"),
        ({"workers_total": 100, "workers_women": 120}, "exceed the total"),
        ({"workers_total": -1}, "cannot be negative"),
    ],
)
def test_workforce_must_add_up(workforce: dict[str, int], problem: str) -> None:
    with pytest.raises(FactoryRuleError, match=problem):
        _factory(**workforce)


def test_a_workforce_that_adds_up_is_kept() -> None:
    factory, _ = _factory(workers_total=100, workers_women=70, workers_men=30, workers_migrants=5)
    assert (factory.workers_total, factory.workers_women, factory.workers_men) == (100, 70, 30)


def test_blank_name_or_address_is_refused() -> None:
    with pytest.raises(FactoryRuleError, match="name"):
        _factory(name="   ")
    with pytest.raises(FactoryRuleError, match="address"):
        _factory(address="")
    for no_name in ("---", "\u0301", "& ."):  # nothing matching or search could file it under
        with pytest.raises(FactoryRuleError, match="letter or a digit"):
            _factory(name=no_name)


def test_joined_via_sent_as_null_is_self_on_registration_and_cannot_be_cleared() -> None:
    factory, event = _factory(joined_via=None)  # was a 500: the event read `.value` of None
    assert factory.joined_via.value == "self" and event.profile.joined_via == "self"
    with pytest.raises(FactoryRuleError, match="joined_via"):
        update(factory, values={"joined_via": None}, now=LATER)


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(FactoryRuleError, match="ISO 3166"):
        register(country="XX", values={"name": "A", "address": "B"}, now=NOW)


def test_update_carries_only_the_changed_fields_and_lists_cleared_ones() -> None:
    factory, _ = _factory(province="Kandal", sector="garment")
    changed, event, diff = update(
        factory, values={"name": "Golden Thread 2", "province": None, "sector": "garment"}, now=LATER
    )
    assert changed.version == 2
    assert set(diff) == {"name", "province"}
    assert event is not None
    assert event.changes.model_dump(exclude_none=True, exclude_defaults=True) == {
        "name": "Golden Thread 2",
        "cleared": ["province"],
    }


def test_an_update_that_changes_nothing_raises_nothing() -> None:
    factory, _ = _factory()
    same, event, diff = update(factory, values={"name": " Golden  Thread "}, now=LATER)
    assert (event, diff, same.version) == (None, {}, 1)


def test_merge_moves_names_and_ids_and_retires_the_duplicate() -> None:
    survivor, _ = _factory(os_id="CN2019303BQ3FZP")
    duplicate, _ = register(
        country="KH",
        values={
            "name": "Golden Thread Garment",
            "address": "Street 1",
            "slcp_facility_id": "SLCP-123",
            "os_id": "KH2020001AAAAA" + os_id_check_character("KH2020001AAAAA"),
        },
        now=NOW,
    )
    outcome = merge(survivor, duplicate, now=LATER)
    assert outcome.survivor.slcp_facility_id == "SLCP-123"
    assert outcome.survivor.os_id == "CN2019303BQ3FZP"  # its own id stays primary
    assert ("os_id", duplicate.os_id) in outcome.survivor.former_external_ids
    assert "Golden Thread Garment" in outcome.survivor.aliases
    assert outcome.merged.merged_into == survivor.id
    assert outcome.merged.os_id is None
    assert outcome.merged_event.survivor_id == survivor.id
    assert outcome.merged_event.version == 2
    assert outcome.survivor_event is not None
    assert outcome.survivor_event.version == outcome.survivor.version == 2


def test_merge_refuses_itself_other_countries_and_merged_records() -> None:
    a, _ = _factory()
    b, _ = register(country="VN", values={"name": "B", "address": "C"}, now=NOW)
    with pytest.raises(FactoryRuleError, match="itself"):
        merge(a, a, now=LATER)
    with pytest.raises(FactoryRuleError, match="different countries"):
        merge(a, b, now=LATER)
    c, _ = _factory(name="C")
    retired = merge(a, c, now=LATER).merged
    with pytest.raises(FactoryRuleError, match="merged"):
        merge(a, retired, now=LATER)
    with pytest.raises(FactoryRuleError, match="merged"):
        update(retired, values={"name": "D"}, now=LATER)
    assert uuid.UUID(str(retired.merged_into)) == a.id


@pytest.mark.parametrize(
    ("survivor", "duplicate", "refused"),
    [
        ("exited", "enrolled", True),  # the real factory would stay exited: staff decide which agreement holds
        ("registered", "active", True),
        ("exited", "suspended", True),
        ("active", "enrolled", False),  # both in an enrolment: the survivor's stands
        ("exited", "registered", False),
        ("enrolled", "exited", False),
    ],
)
def test_a_merge_that_would_drop_the_duplicates_enrolment_is_refused_naming_both_states(
    survivor: str, duplicate: str, refused: bool
) -> None:
    if not refused:
        check_enrolments(Status(survivor), Status(duplicate))
        return
    with pytest.raises(EnrolmentConflict) as raised:
        check_enrolments(Status(survivor), Status(duplicate))
    assert (raised.value.survivor, raised.value.merged) == (Status(survivor), Status(duplicate))
    assert survivor in str(raised.value) and duplicate in str(raised.value)
