"""The registry's one tenancy rule (`service/access.py`), without I/O: who sees what, and what "not seeing" means."""

import uuid
from datetime import UTC, datetime

import pytest

from registry.domain.factory import register
from registry.service.access import View, list_scope, require_change, require_view, view_of
from servicekit.auth import Principal, Role
from servicekit.errors import Forbidden, NotFound

FACTORY, _ = register(
    country="KH", values={"name": "Golden Thread", "address": "Street 1"}, now=datetime(2026, 11, 2, tzinfo=UTC)
)


def who(*roles: Role, country: str | None = None, org: object = None) -> Principal:
    return Principal("someone", frozenset(roles), str(org) if org else None, country)


KH_STAFF = who(Role.STAFF, country="KH")
VN_STAFF = who(Role.STAFF, country="VN")
OWN = who(Role.FACTORY, country="KH", org=str(FACTORY.id).upper())  # an id is a UUID, whatever its case
OTHER_FACTORY = who(Role.FACTORY, country="KH", org=uuid.uuid4())
BUYER = who(Role.BUYER, org=uuid.uuid4())
SERVICE = who(Role.SERVICE, country="VN")
CONSTITUENT = who(Role.CONSTITUENT, country="KH")
ADMIN = who(Role.ADMIN)


@pytest.mark.parametrize(
    ("principal", "view"),
    [
        (KH_STAFF, View.FULL),
        (ADMIN, View.FULL),
        (OWN, View.FULL),
        (BUYER, View.BASIC),
        (SERVICE, View.BASIC),
        (VN_STAFF, None),
        (OTHER_FACTORY, None),
        (CONSTITUENT, None),
        (who(Role.STAFF), None),  # staff whose token names no country
    ],
)
def test_each_caller_sees_the_factory_as_the_rule_says(principal: Principal, view: View | None) -> None:
    assert view_of(principal, FACTORY) is view


def test_a_caller_who_may_not_see_it_is_told_it_does_not_exist_before_anything_else() -> None:
    for principal in (VN_STAFF, OTHER_FACTORY, CONSTITUENT):
        with pytest.raises(NotFound):
            require_change(principal, FACTORY, FACTORY.id, None)
    with pytest.raises(NotFound):
        require_view(BUYER, FACTORY, FACTORY.id, at_least=View.FULL)  # the history is for full readers
    with pytest.raises(Forbidden):
        require_change(OWN, FACTORY, FACTORY.id, None)  # sees it, proposes changes instead
    assert require_change(KH_STAFF, FACTORY, FACTORY.id, "KH") is FACTORY
    assert require_change(ADMIN, FACTORY, FACTORY.id, "VN") is FACTORY


def test_lists_follow_the_same_rule() -> None:
    assert list_scope(KH_STAFF, None).country == "KH"
    assert list_scope(KH_STAFF, "vn").nothing  # another country's list is empty, not a 403
    assert list_scope(who(Role.STAFF), None).nothing
    assert list_scope(OWN, None).factory_id == FACTORY.id
    assert list_scope(BUYER, "KH") == list_scope(SERVICE, "KH")  # the directory, basic profile
    assert list_scope(BUYER, None).view is View.BASIC
    assert list_scope(ADMIN, None).view is View.FULL
    assert list_scope(CONSTITUENT, None).nothing
