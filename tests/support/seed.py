"""Seed records directly for tests that are not about how they got there."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.records import Actor, Agency, Officer, Package, Stamp
from services.context import AppContext
from storage.repositories import SubscriptionRepository
from tests.support.factories import POC_AAD

SUBMITTED_AT = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def package(judiciary_code: str = "9000", poc: str = POC_AAD) -> Package:
    """A Williston-like Information Package."""
    agency = Agency(
        judiciary_code=judiciary_code,
        agency_name="Williston Police Department",
        letterhead_address="7928 Williston Rd, Williston, VT 05495",
        letterhead_phone="(802) 878-6611",
        poc_name="Pat Poc",
        poc_email="pat.poc@williston.example",
    )
    return Package(
        agency=agency,
        poc=Actor(aad_id=poc, name="Pat Poc"),
        submitted=Stamp(actor=Actor(aad_id=poc, name="Pat Poc"), at=SUBMITTED_AT),
    )


def officer(number: str = "A1234", judiciary_code: str = "9000", **changes: object) -> Officer:
    """An officer in monitoring."""
    base = Officer(
        judiciary_code=judiciary_code,
        officer_number=number,
        first_name="Casey",
        last_name="Officer",
        dps_username="cofficer",
        start_date=date(2026, 11, 2),
        added=Stamp(actor=Actor(aad_id=POC_AAD, name="Pat Poc"), at=SUBMITTED_AT),
    )
    return base.model_copy(update=changes)


async def seed_agency(
    app: AppContext, *, judiciary_code: str = "9000", officers: tuple[str, ...] = ("A1234",), channel: str | None = None
) -> None:
    """Store a package with officers, and subscribe a channel to its alerts when given."""
    ops = [app.db.packages.put(package(judiciary_code))]
    ops += [app.db.officers.put(officer(number, judiciary_code)) for number in officers]
    if channel is not None:
        ops.append(app.db.subscriptions.put(judiciary_code, channel, POC_AAD, SUBMITTED_AT))
    await app.db.commit(ops)


async def mark_jb_channel(app: AppContext, channel: str) -> None:
    """Route JB notices to a channel."""
    await app.db.commit([app.db.subscriptions.put(SubscriptionRepository.JB, channel, "jb", SUBMITTED_AT)])
