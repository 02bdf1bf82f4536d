"""The invoicing service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from invoicing.api import cost_recovery, invoices, price_lists, refunds, wallet
from invoicing.service.country_pack import configured
from invoicing.settings import InvoicingSettings
from invoicing.workers import WORKERS
from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: InvoicingSettings | None = None) -> FastAPI:
    settings = settings or InvoicingSettings()
    app = create_service_app(
        SERVICE,
        settings,
        routers=[price_lists.router, invoices.router, refunds.router, wallet.router, cost_recovery.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
    )
    # The pack's payment terms, checked issuer and overdue policy (a disagreement stops the start here); its
    # price list is seeded by `workers.country_price_list`.
    app.state.settings = configured(settings, app.state.country_pack)
    return app


SERVICE = ServiceDefinition(
    name="invoicing",
    title="Invoicing",
    summary="Price lists, prepaid credits, invoices, payments and cost recovery.",
    settings_cls=InvoicingSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
