"""Manufacturing groups: the company that owns several factories, wherever they are (DOMAIN.md section 1).

A group is countable: five or more factories of one group earn a discount in invoicing. Its identity does not
depend on a country: a group is known by its name, folded (case, accents, punctuation and spacing do not
count), and its id is derived from that folded name, so the same group named in two countries, in two
registrations at the same moment, or in a bulk upload is one group with one id. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

# Ids of groups are UUIDv5 in this namespace, of the group's key.
GROUP_NAMESPACE = uuid.UUID("4f9b7a62-3c8e-5d1a-9b0e-6a1f2c7d8e90")


class GroupRuleError(ValueError):
    """A group name that names nothing."""


def group_key(name: str) -> str:
    """The folded name two spellings of one group share: `ACME Group` and `acme  group` are one group."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = " ".join(re.sub(r"[\W_]+", " ", bare).split())
    if not key:
        raise GroupRuleError(f"{name!r} is no group name: it needs a letter or a digit")
    return key


def group_id_of(name: str) -> uuid.UUID:
    """The group's id: the same for every spelling with the same key, in every country."""
    return uuid.uuid5(GROUP_NAMESPACE, group_key(name))


@dataclass(frozen=True)
class ManufacturingGroup:
    id: uuid.UUID
    name: str
    key: str
    created_at: datetime


def new_group(name: str, *, now: datetime) -> ManufacturingGroup:
    text = " ".join(unicodedata.normalize("NFC", name).split())
    key = group_key(text)
    return ManufacturingGroup(id=uuid.uuid5(GROUP_NAMESPACE, key), name=text, key=key, created_at=now)


@dataclass(frozen=True)
class GroupMembership:
    """How many factories a group counts: live records (not merged, not exited), in all and per country."""

    group: ManufacturingGroup
    member_count: int
    members_by_country: dict[str, int]
    exited_count: int
