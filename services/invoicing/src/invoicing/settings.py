"""Configuration of the invoicing service: environment variables prefixed `INVOICING_`."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class InvoicingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INVOICING_")

    service_name: ClassVar[str] = "invoicing"
    default_port: ClassVar[int] = 8005

    finance_scope: str = Field(
        default="invoicing:finance",
        description="Scope that makes a staff member finance staff (issue, record payments, credit, write off).",
    )
    payment_terms_days: int = Field(default=30, ge=0, le=365, description="Days from issue to due date.")
    credit_validity_days: int = Field(default=730, ge=1, le=3650, description="How long bought credits stay valid.")
    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="Currency of cost recovery.")
    overdue_sweep_s: float = Field(default=3600.0, gt=0, description="How often overdue invoices are looked at.")
    overdue_sweep_enabled: bool = Field(default=True, description="Run the overdue sweep in this process.")
    invoice_enrolments: bool = Field(
        default=True, description="Draft a service package invoice when the registry enrols a factory."
    )
