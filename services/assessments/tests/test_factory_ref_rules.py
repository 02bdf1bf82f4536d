"""The read model applies each registry change once and in order (pure rule, no I/O)."""

from assessments.domain.factory_ref import Apply, decide


def test_first_event_of_a_new_factory_applies() -> None:
    assert decide(None, 1) is Apply.APPLY


def test_next_version_applies() -> None:
    assert decide(3, 4) is Apply.APPLY


def test_seen_versions_are_repeats() -> None:
    assert decide(3, 3) is Apply.REPEAT
    assert decide(3, 1) is Apply.REPEAT


def test_a_missing_version_is_a_gap() -> None:
    assert decide(3, 5) is Apply.GAP
    assert decide(None, 2) is Apply.GAP
