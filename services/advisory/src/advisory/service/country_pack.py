"""The advisory part of the country pack (`pack.advisory`), applied when the service starts.

- Training-day entitlement: the pack's `training_days_per_year` is the entitlement of every factory of the
  instance's country (`ADVISORY_TRAINING_DAYS_PER_YEAR`, when set, still wins); factories of other countries (an
  instance without COUNTRY serves several) keep the packaged figures (`data/training_entitlements.yaml`).
- Progress reports: advisory dues PR1 `PR1_DAYS` after the report's release; a pack asking for another
  deadline stops the start, naming the field, since this release cannot honour it.
"""

from __future__ import annotations

from advisory.domain import training as rules
from advisory.domain.report import PR1_DAYS
from advisory.settings import AdvisorySettings
from servicekit.country_pack import CountryPack, CountryPackError


def configured(settings: AdvisorySettings, pack: CountryPack | None) -> AdvisorySettings:
    """`settings` with the pack's training-day entitlement (CountryPackError for a part advisory cannot apply)."""
    if pack is None:
        return settings
    part = pack.advisory
    if part.progress_report_days != PR1_DAYS:
        raise CountryPackError(
            f"country pack for {pack.country}: advisory.progress_report_days is {part.progress_report_days}, but "
            f"advisory dues the first progress report {PR1_DAYS} days after the report's release"
        )
    if "training_days_per_year" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"training_days_per_year": part.training_days_per_year})


def entitled_days(settings: AdvisorySettings, country: str) -> int | None:
    """Training days a factory of `country` is entitled to per year (None: no figure for that country)."""
    if settings.training_days_per_year is not None and country == settings.country:
        return settings.training_days_per_year
    return rules.entitled_days(country)
