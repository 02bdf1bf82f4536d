"""What a factory merge does to the relationships of the two records (DOMAIN.md sections 1 and 4). Pure: no I/O.

Both records were one factory, so each buyer ends with one open sourcing link to the survivor and the factory's
latest word on consent:
- links: of a buyer's open links to either record the most permissive is kept (confirmed over declared; between
  equals the older relationship), starting when the earlier of them started; the other open one is folded into
  it. Ended links are history and simply move.
- consents: every consent moves; where the latest decision the factory took for that buyer (under either id) is a
  revocation, a consent of the other id still running that was granted before it is revoked too, so a merge
  never reopens what the factory closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from partnerships.domain.relationships import Consent, LinkStatus, SourcingLink

_PERMISSIVE = {LinkStatus.CONFIRMED: 0, LinkStatus.DECLARED: 1}


@dataclass(frozen=True)
class LinkFold:
    kept: list[SourcingLink]  # open links as they stand under the survivor
    folded: list[uuid.UUID]  # open links merged into a kept one


def fold_links(links: Iterable[SourcingLink], *, survivor: uuid.UUID, now: datetime) -> LinkFold:
    """One open link per buyer: the most permissive of the open links of both records, moved to the survivor."""
    by_buyer: dict[uuid.UUID, list[SourcingLink]] = {}
    for link in links:
        if link.status is not LinkStatus.ENDED:
            by_buyer.setdefault(link.buyer_id, []).append(link)
    kept: list[SourcingLink] = []
    folded: list[uuid.UUID] = []
    for open_links in by_buyer.values():
        ranked = sorted(open_links, key=lambda link: (_PERMISSIVE[link.status], link.created_at, str(link.id)))
        best, rest = ranked[0], ranked[1:]
        starts = [link.start_date for link in open_links]
        start = None if None in starts else min(s for s in starts if s is not None)
        changed = best.factory_id != survivor or start != best.start_date
        if changed:
            best = replace(best, factory_id=survivor, start_date=start, updated_at=now)
        kept.append(best)
        folded.extend(link.id for link in rest)
    return LinkFold(kept, folded)


def consents_closed_by_merge(consents: Iterable[Consent]) -> list[uuid.UUID]:
    """Running consents granted before the latest revocation the factory made for the same buyer."""
    by_buyer: dict[uuid.UUID, list[Consent]] = {}
    for consent in consents:
        by_buyer.setdefault(consent.buyer_id, []).append(consent)
    closed: list[uuid.UUID] = []
    for given in by_buyer.values():
        revocations = [c.revoked_at for c in given if c.revoked_at is not None and c.revoke_reason == "revoked"]
        if not revocations:
            continue
        last_revoked = max(revocations)
        if any(c.granted_at > last_revoked for c in given):
            continue  # the factory consented again after it revoked: its latest word is yes
        closed.extend(c.id for c in given if c.revoked_at is None and c.granted_at < last_revoked)
    return closed
