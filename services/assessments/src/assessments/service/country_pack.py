"""The assessments part of the country pack: which tool and zero-tolerance protocol the instance runs.

The pack names a tool and a protocol by code and version (`pack.assessments`). This release ships one version
of a few (`data/tool_<code>.yaml`, `data/<protocol>.yaml`, listed below):
- a pack naming a shipped tool or protocol must name the shipped version, for its own country (anything else
  is a configuration error and stops the start); it is published on first start;
- a pack naming one this release does not ship (Jordan's `jo_garment`, say) starts a programme that loads its
  own: nothing is seeded, a warning is logged at start, `GET /v1/programme` says what is expected, uploads of
  any other code or version are refused, and no assessment is scheduled until the pack's tool is published and
  its protocol loaded (the rules are in `service/tools.py`).
The pack's referral list (who is told of a confirmed zero-tolerance finding, besides linked buyers) must name
parties of the protocol the instance runs: checked at start for a shipped protocol (a pack naming a party the
protocol does not define stops the start, naming it), and at upload for a protocol staff load (422, nothing
changed). The cycle length (`cycle_months`) travels with it (`CountryProgramme`, `GET /v1/programme`); no rule of
this service computes when a factory's next cycle is due yet, so nothing else reads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import yaml

from assessments.domain.tool import ToolVersion
from assessments.domain.zero_tolerance import Protocol, parse_protocol
from assessments.service.tools import DATA, SHIPPED, pack_protocol, pack_tool
from servicekit.auth import Principal
from servicekit.country_pack import CountryPack, CountryPackError
from servicekit.database import Database, UnitOfWork
from servicekit.errors import NotFound

# The version of each shipped data file, by the code a pack names it with: raise it with the file.
SHIPPED_TOOLS: dict[str, tuple[str, str]] = {
    "kh_garment": ("tool_kh_garment.yaml", "1.0"),
    "vn_garment": ("tool_vn_garment.yaml", "1.0"),
}
SHIPPED_PROTOCOLS: dict[str, tuple[str, str]] = {
    "zt_protocol_kh": ("zt_protocol_kh.yaml", "1.0"),
    "zt_protocol_vn": ("zt_protocol_vn.yaml", "1.0"),
}
_log = logging.getLogger("assessments.country_pack")


@dataclass(frozen=True)
class CountryProgramme:
    """What the pack sets for this instance's assessments."""

    country: str
    tool: str
    tool_version: str
    protocol: str
    protocol_version: str
    referral_list: tuple[str, ...]
    cycle_months: int
    name: str = ""  # the programme's name, e.g. Better Work Jordan
    # The shipped data file of the tool and of the protocol; None: this release does not ship it, the programme
    # uploads its own (POST /v1/tools, PUT /v1/zero-tolerance-protocol).
    tool_file: str | None = None
    protocol_file: str | None = None

    @property
    def uploads_tool(self) -> bool:
        return self.tool_file is None

    @property
    def uploads_protocol(self) -> bool:
        return self.protocol_file is None

    def unknown_referrals(self, protocol: Protocol) -> list[str]:
        """The parties of the pack's referral list that `protocol` does not define (in the pack's order)."""
        return [party for party in self.referral_list if party not in protocol.parties]

    def referral_problem(self, protocol: Protocol) -> str | None:
        """Why `protocol` cannot serve this pack's referral list, or None when it defines every party of it."""
        unknown = self.unknown_referrals(protocol)
        if not unknown:
            return None
        return (
            f"the country pack for {self.country} refers zero-tolerance findings to {', '.join(unknown)}, which "
            f"zero-tolerance protocol {protocol.code or self.protocol} does not define under `parties` (it defines "
            f"{', '.join(sorted(protocol.parties))}): add them to the protocol or drop them from the pack's "
            "`assessments.referral_list`"
        )

    def tool_step(self) -> str:
        """What staff do to load the pack's tool (in 409 answers, the start-up warning, `GET /v1/programme`)."""
        return (
            f"upload tool {self.tool} {self.tool_version} for {self.country} (POST /v1/tools, a cat-country-tool "
            f'document with `code: {self.tool}` and `version: "{self.tool_version}"`) and publish it '
            "(POST /v1/tools/{id}/publish)"
        )

    def protocol_step(self) -> str:
        return (
            f"load zero-tolerance protocol {self.protocol} {self.protocol_version} for {self.country} "
            f"(PUT /v1/zero-tolerance-protocol, a document with `code: {self.protocol}` and "
            f'`version: "{self.protocol_version}"`)'
        )


def programme_of(pack: CountryPack | None) -> CountryProgramme | None:
    """The pack's assessments part, checked against what this release ships (CountryPackError for a shipped
    tool or protocol at another version or of another country); None without a pack."""
    if pack is None:
        return None
    part = pack.assessments
    tool_file = _shipped(SHIPPED_TOOLS, "tool", part.tool, part.tool_version, pack.country)
    protocol_file = _shipped(
        SHIPPED_PROTOCOLS,
        "zero-tolerance protocol",
        part.zero_tolerance_protocol,
        part.zero_tolerance_protocol_version,
        pack.country,
    )
    own_tool, own_protocol = SHIPPED.get(pack.country, (None, None))
    if tool_file not in (None, own_tool) or protocol_file not in (None, own_protocol):  # another country's
        raise CountryPackError(
            f"country pack for {pack.country} names tool {part.tool} and protocol {part.zero_tolerance_protocol}, "
            f"which are not {pack.country}'s: assessments ships {_names(SHIPPED.get(pack.country))} for it"
        )
    programme = CountryProgramme(
        country=pack.country,
        tool=part.tool,
        tool_version=part.tool_version,
        protocol=part.zero_tolerance_protocol,
        protocol_version=part.zero_tolerance_protocol_version,
        referral_list=part.referral_list,
        cycle_months=part.cycle_months,
        name=pack.programme,
        tool_file=tool_file,
        protocol_file=protocol_file,
    )
    if protocol_file is not None:
        problem = programme.referral_problem(_shipped_protocol(protocol_file))
        if problem is not None:
            raise CountryPackError(problem)
    return programme


def _shipped_protocol(file: str) -> Protocol:
    return parse_protocol(yaml.safe_load((DATA / file).read_text(encoding="utf-8")))


def _shipped(catalogue: dict[str, tuple[str, str]], kind: str, code: str, version: str, country: str) -> str | None:
    """The shipped file of `code` (checked: version, presence), or None when this release does not ship it."""
    if code not in catalogue:
        return None
    file, shipped_version = catalogue[code]
    if shipped_version != version:
        raise CountryPackError(
            f"country pack for {country} asks for {kind} {code} {version}, but assessments ships {code} "
            f"{shipped_version}"
        )
    if not (DATA / file).is_file():
        raise CountryPackError(f"{kind} {code} is listed but its file {file} is missing from this installation")
    return file


def _names(files: tuple[str, str] | None) -> str:
    if files is None:
        return "no tool"
    by_file = {f: c for c, (f, _) in (SHIPPED_TOOLS | SHIPPED_PROTOCOLS).items()}
    return " and ".join(by_file.get(f, f) for f in files)


@dataclass(frozen=True)
class ProgrammeStatus:
    """What the pack asks for and what of it is loaded: the published tool version scheduling would use (None
    until there is one) and the loaded protocol (None until one is)."""

    programme: CountryProgramme
    tool_version: ToolVersion | None
    protocol: Protocol | None

    @property
    def ready(self) -> bool:
        """Assessments can be scheduled."""
        return self.tool_version is not None and self.protocol is not None

    def next_steps(self) -> list[str]:
        steps = []
        if self.tool_version is None:
            steps.append(self.programme.tool_step())
        if self.protocol is None:
            steps.append(self.programme.protocol_step())
        return steps


async def status_of(uow: UnitOfWork, programme: CountryProgramme) -> ProgrammeStatus:
    return ProgrammeStatus(programme, await pack_tool(uow, programme), await pack_protocol(uow, programme))


async def programme_status(
    uow: UnitOfWork, *, principal: Principal, programme: CountryProgramme | None
) -> ProgrammeStatus:
    """The instance's programme for its country's staff (404 without a pack, and to anyone else)."""
    if programme is None or not principal.is_staff_of(programme.country):
        raise NotFound("This instance runs without a country pack.")
    return await status_of(uow, programme)


async def warn_what_is_missing(database: Database, programme: CountryProgramme) -> None:
    """At start: say loudly what of the pack's tool and protocol staff still have to load (what this release does
    not ship). The instance serves anyway (readiness does not depend on it), so they can load them through the
    API."""
    async with database.unit_of_work() as uow:
        status = await status_of(uow, programme)
    for step in status.next_steps():
        _log.warning(
            "assessments for %s (%s): the country pack names a tool or protocol that is not loaded yet: %s. "
            "Until then scheduling an assessment answers 409; GET /v1/programme shows what is loaded.",
            programme.country,
            programme.name,
            step,
        )
