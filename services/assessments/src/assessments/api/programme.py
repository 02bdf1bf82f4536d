"""The instance's country programme over HTTP: what its country pack asks of assessments (tool and zero-tolerance
protocol, by code and version) and whether it is loaded. `CountryProgrammeDep` hands the pack's part to the
routes whose use cases honour it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from assessments.api.schemas import ProgrammeOut, ProgrammeProtocolOut, ProgrammeToolOut
from assessments.service.country_pack import CountryProgramme, programme_status
from servicekit.edge import StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)


def country_programme(request: Request) -> CountryProgramme | None:
    """The assessments part of this instance's country pack (None without a pack)."""
    programme: CountryProgramme | None = request.app.state.country_programme
    return programme


CountryProgrammeDep = Annotated[CountryProgramme | None, Depends(country_programme)]


@router.get("/v1/programme", tags=["programme"], summary="What the country pack asks of assessments")
async def get_programme(uow: UnitOfWorkDep, staff: StaffPrincipal, programme: CountryProgrammeDep) -> ProgrammeOut:
    """The tool and zero-tolerance protocol the pack names, whether this release ships them or staff upload
    them, whether they are published and loaded, and the next steps until assessments can be scheduled. 404
    without a country pack, and to staff of another country."""
    status = await programme_status(uow, principal=staff, programme=programme)
    pack = status.programme
    return ProgrammeOut(
        country=pack.country,
        programme=pack.name,
        tool=ProgrammeToolOut(
            code=pack.tool,
            version=pack.tool_version,
            source="uploaded" if pack.uploads_tool else "shipped",
            published=status.tool_version is not None,
            tool_version_id=status.tool_version.id if status.tool_version else None,
            label=status.tool_version.label if status.tool_version else None,
        ),
        zero_tolerance_protocol=ProgrammeProtocolOut(
            code=pack.protocol,
            version=pack.protocol_version,
            source="uploaded" if pack.uploads_protocol else "shipped",
            loaded=status.protocol is not None,
        ),
        ready=status.ready,
        next_steps=status.next_steps(),
        referral_list=list(pack.referral_list),
        cycle_months=pack.cycle_months,
    )
