"""Leaderboards: people who opted in, by month and city; organisations by month and kind.

A person appears only after opting in (the `leaderboards` privacy setting, off by default;
``PUT /users/me/privacy`` or its shortcut ``PUT /leaderboards/opt-in``). A person's
figure is their net ledger credit in the month (trades and recycling, less reversals); by
city, only the credits of trades whose listing was in that city (where the device changed
hands). Organisations: their accounts' net credit in the month, by kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from carbon.ledger.models import AccountKind, LedgerAccount, LedgerLine, LedgerTransaction
from carbon.ledger.services import kg, next_period
from marketplace.accounts.models import User
from marketplace.core import privacy
from marketplace.core.db import db
from marketplace.listings.models import Listing
from marketplace.organisations.models import Organisation
from marketplace.trades.models import Trade


def members(user_ids: Iterable[int]) -> set[int]:
    """The subset of ``user_ids`` who agreed to appear in leaderboards."""
    return privacy.leaderboard_members(sorted(set(user_ids)))


def set_opt_in(user: User, appear: bool) -> dict[str, Any]:
    privacy.update(user.id, {"leaderboards": appear})
    db.session.commit()
    return {"appear": appear}


def get_opt_in(user: User) -> dict[str, Any]:
    return {"appear": bool(members([user.id]))}


def _month(month: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    return start, next_period(start, "month")


def _net(owner_col, kind: str, start: datetime, end: datetime, city: str | None = None):
    query = (select(owner_col, func.sum(LedgerLine.amount_g).label("net"))
             .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerLine.transaction_id)
             .where(LedgerAccount.kind == kind, LedgerTransaction.occurred_at >= start,
                    LedgerTransaction.occurred_at < end))
    if city is not None:
        query = (query.join(Trade, Trade.id == LedgerTransaction.trade_id)
                 .join(Listing, Listing.id == Trade.listing_id)
                 .where(func.lower(Listing.city) == city.lower()))
    return query.group_by(owner_col)


def people(month: str, city: str | None, limit: int) -> dict[str, Any]:
    start, end = _month(month)
    totals = dict(db.session.execute(
        _net(LedgerAccount.user_id, AccountKind.USER.value, start, end, city)).all())
    shown = members(totals)
    ranked = sorted(((int(g), u) for u, g in totals.items() if u in shown and g and g > 0),
                    key=lambda t: (-t[0], t[1]))[:limit]
    names = dict(db.session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_([u for _, u in ranked]))).all())
    return {"month": month, "city": city, "entries": [
        {"rank": i + 1, "user_id": u, "display_name": names.get(u), "net_g": g,
         "net_kgco2e": kg(g)} for i, (g, u) in enumerate(ranked)]}


def organisations(month: str, kind: str | None, limit: int) -> dict[str, Any]:
    start, end = _month(month)
    totals = dict(db.session.execute(
        _net(LedgerAccount.organisation_id, AccountKind.ORGANISATION.value, start, end)).all())
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(list(totals))))}
    ranked = sorted(((int(g), o) for o, g in totals.items()
                     if g and g > 0 and o in orgs and (kind is None or orgs[o].kind == kind)),
                    key=lambda t: (-t[0], t[1]))[:limit]
    return {"month": month, "kind": kind, "entries": [
        {"rank": i + 1, "organisation_id": o, "name": orgs[o].name, "kind": orgs[o].kind,
         "net_g": g, "net_kgco2e": kg(g)} for i, (g, o) in enumerate(ranked)]}
