"""Production stages, workforce nationalities, manufacturing groups and enrolment periods on the record
(pure rules and the events they raise, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from betterwork_contracts.events.registry import FactoryStatusChanged
from registry.domain.enrolment import Enrolment
from registry.domain.factory import FactoryRuleError, ProductionStage, register, status_event, update
from registry.domain.groups import GroupRuleError, group_id_of, group_key, new_group

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def factory(**values: Any) -> Any:
    made, event = register(country="KH", values={"name": "Angkor Knit", "address": "Road 1", **values}, now=NOW)
    return made, event


def test_one_group_whatever_the_spelling_and_the_country() -> None:
    assert group_key("  Mékong   APPAREL-group ") == group_key("mekong apparel group") == "mekong apparel group"
    assert group_id_of("MEKONG Apparel Group") == group_id_of("mekong apparel group")
    assert group_id_of("Mekong Apparel Group") != group_id_of("Mekong Textile Group")
    assert new_group(" Mekong  Apparel Group", now=NOW).id == group_id_of("mekong apparel group")
    with pytest.raises(GroupRuleError):
        group_key(" -- ")
    kh, _ = factory(group_name="Mekong Apparel Group")
    vn, _ = register(country="VN", values={"name": "B", "address": "C", "group_name": "mekong apparel GROUP"}, now=NOW)
    assert kh.group_id == vn.group_id == group_id_of("Mekong Apparel Group")


def test_the_group_id_and_name_move_together() -> None:
    grouped, event = factory(group_name="Mekong Apparel Group")
    assert event.profile is not None and event.profile.group_id == grouped.group_id
    left, left_event, _ = update(grouped, values={"group_name": None}, now=NOW)
    assert (left.group_id, left.group_name) == (None, None)
    assert left_event is not None and set(left_event.changes.cleared) == {"group_id", "group_name"}
    moved, moved_event, _ = update(grouped, values={"group_name": "Delta Group"}, now=NOW)
    assert moved.group_id == group_id_of("Delta Group")
    assert moved_event is not None and moved_event.changes.group_id == moved.group_id
    with pytest.raises(FactoryRuleError, match="group id needs the group's name"):
        update(grouped, values={"group_id": uuid.uuid4()}, now=NOW)  # the service names the group of an id
    with pytest.raises(FactoryRuleError):
        factory(group_name="--")


def test_nationalities_are_iso_codes_and_add_up_to_no_more_than_the_total() -> None:
    made, event = factory(workers_total=100, workers_nationalities={"vn": 10, "KH": 90, "TH": 0})
    assert made.workers_nationalities == (("KH", 90), ("VN", 10))
    assert event.profile is not None and event.profile.workers_nationalities == {"KH": 90, "VN": 10}
    with pytest.raises(FactoryRuleError, match="exceed the total"):
        factory(workers_total=100, workers_nationalities={"KH": 95, "VN": 10})
    with pytest.raises(FactoryRuleError, match="ISO 3166-1"):
        factory(workers_nationalities={"XX": 3})
    with pytest.raises(FactoryRuleError, match="twice"):
        factory(workers_nationalities={"kh": 3, "KH": 4})
    with pytest.raises(FactoryRuleError, match="exceed the total"):  # the total shrinking below them too
        update(made, values={"workers_total": 50, "workers_women": None}, now=NOW)
    _, changed_event, _ = update(made, values={"workers_nationalities": {"KH": 80, "MM": 20}}, now=NOW)
    assert changed_event is not None and changed_event.changes.workers_nationalities == {"KH": 80, "MM": 20}


def test_production_stages_are_a_controlled_set() -> None:
    made, event = factory(production_stages=["washing", "cut_make_trim", "washing"])
    assert made.production_stages == (ProductionStage.WASHING, ProductionStage.CUT_MAKE_TRIM)
    assert event.profile is not None and event.profile.production_stages == ["washing", "cut_make_trim"]
    with pytest.raises(ValueError):
        factory(production_stages=["mining"])
    cleared, cleared_event, _ = update(made, values={"production_stages": ()}, now=NOW)
    assert cleared.production_stages == ()
    assert cleared_event is not None and cleared_event.changes.cleared == ["production_stages"]


def test_a_re_enrolment_event_reads_as_an_enrolment_to_every_consumer() -> None:
    made, _ = factory()
    start = date(2027, 1, 1)
    e, _ = Enrolment.registered().enrol(service_package="core", start_date=start, at=NOW, by="s")
    e, _ = e.exit(reason="closed", at=NOW, by="s")
    e, record = e.re_enrol(service_package="core", start_date=start, at=NOW, by="s")
    back = made.__class__(**{**made.__dict__, "status": e.status, "enrolment_periods": e.periods})
    event = status_event(back, record, version=4)
    assert (event.change, event.status, event.previous_status) == ("enrolled", "enrolled", "exited")
    assert (event.re_enrolment, event.enrolment_period) == (True, 2)
    wire = event.model_dump(mode="json")
    # What a consumer built before re-enrolment existed sees: the old fields, an enrolment it understands.
    old_fields = set(FactoryStatusChanged.model_fields) - {"re_enrolment", "enrolment_period"}
    assert FactoryStatusChanged.model_validate({k: wire[k] for k in old_fields}).re_enrolment is False
    assert FactoryStatusChanged.model_validate(wire) == event
