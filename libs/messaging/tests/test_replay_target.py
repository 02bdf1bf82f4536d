"""A dead letter goes back only to the topic it was dead-lettered from, and only if its contract names that topic."""

from __future__ import annotations

import pytest

from messaging.dlq import DeadLetter, UnsafeReplay, replay_target

REGISTERED = b"org.betterwork.registry.factory.registered.v1"


def letter(dlq_topic: str, *headers: tuple[str, bytes]) -> DeadLetter:
    return DeadLetter(dlq_topic, 0, 1, b"k", b"{}", (("ce_type", REGISTERED), *headers))


def test_back_to_the_topic_the_dead_letter_topic_is_named_after() -> None:
    assert replay_target(letter("registry.factory.dlq.assessments")) == "registry.factory"
    assert replay_target(letter("t1a2b3.registry.factory.dlq.t1a2b3.assessments")) == "t1a2b3.registry.factory"
    recorded = ("x-dlq-original-topic", b"registry.factory")
    assert replay_target(letter("registry.factory.dlq.assessments", recorded)) == "registry.factory"


def test_a_forged_header_cannot_send_it_elsewhere() -> None:
    forged = ("x-dlq-original-topic", b"assessments.zero-tolerance")
    with pytest.raises(UnsafeReplay, match=r"dead-lettered from registry\.factory"):
        replay_target(letter("registry.factory.dlq.assessments", forged))


def test_a_type_whose_contract_names_another_topic_is_refused() -> None:
    with pytest.raises(UnsafeReplay, match=r"belongs on registry\.factory"):
        replay_target(letter("partnerships.report-access.dlq.assessments"))
    unknown = DeadLetter("registry.factory.dlq.assessments", 0, 1, None, b"{}", (("ce_type", b"x.y.z.v1"),))
    with pytest.raises(UnsafeReplay, match="no contract"):
        replay_target(unknown)
