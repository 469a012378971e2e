"""The reward catalogue (admins manage it) and redeeming points for its items.

Redemption locks the user's points account row, checks the balance covers the cost (a
negative balance, left by a revoked reward whose points were spent, blocks it) and posts the
debit in the same transaction: concurrent redemptions are serialised and never overspend.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_, select

from marketplace.core.db import db
from marketplace.core.errors import Conflict, InvalidInput, NotFound
from marketplace.core.http import cursors

from . import points, vouchers
from .models import CatalogItem
from .rules import validate_voucher_spec


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    reward = data.get("reward") or {}
    if reward.get("kind") != "voucher":
        errors["reward.kind"] = ["Catalogue items are vouchers (kind: voucher)."]
    spec = validate_voucher_spec(reward, errors, "reward")
    if errors:
        raise InvalidInput("The catalogue item is invalid; see errors.", errors)
    return spec


def create(data: dict[str, Any]) -> CatalogItem:
    item = CatalogItem(name=data["name"], cost_points=data["cost_points"],
                       reward=_validated(data), active=data.get("active", True))
    db.session.add(item)
    db.session.commit()
    return item


def get(item_id: int) -> CatalogItem:
    item = db.session.get(CatalogItem, item_id)
    if item is None:
        raise NotFound("No such catalogue item.")
    return item


def update(item_id: int, data: dict[str, Any]) -> CatalogItem:
    item = get(item_id)
    if "reward" in data:
        item.reward = _validated(data)
    for field in ("name", "cost_points", "active"):
        if field in data:
            setattr(item, field, data[field])
    db.session.commit()
    return item


def listing(include_inactive: bool = False) -> list[CatalogItem]:
    query = select(CatalogItem).order_by(CatalogItem.cost_points, CatalogItem.id)
    if not include_inactive:
        query = query.where(CatalogItem.active.is_(True))
    return list(db.session.scalars(query))


def page(limit: int, cursor: str | None, include_inactive: bool = False) -> dict[str, Any]:
    """One page of the catalogue, cheapest first (``cost_points``, then id): a keyset on
    both, in the shared cursor format (``[cost_points, id]``)."""
    query = select(CatalogItem)
    if not include_inactive:
        query = query.where(CatalogItem.active.is_(True))
    if cursor:
        cost, last_id = cursors.decode(cursor, cursors.as_int)
        query = query.where(or_(CatalogItem.cost_points > cost,
                                and_(CatalogItem.cost_points == cost, CatalogItem.id > last_id)))
    rows = list(db.session.scalars(
        query.order_by(CatalogItem.cost_points, CatalogItem.id).limit(limit + 1)))
    items = rows[:limit]
    more = len(rows) > limit
    return {"items": items,
            "next_cursor": cursors.encode(items[-1].cost_points, items[-1].id) if more else None}


def redeem(user_id: int, item_id: int) -> dict[str, Any]:
    item = db.session.get(CatalogItem, item_id)
    if item is None or not item.active:
        raise NotFound("No such catalogue item.")
    account = points.lock_user(user_id)
    if account.balance < item.cost_points:
        raise Conflict(f"Not enough points: this costs {item.cost_points}, the balance is "
                       f"{account.balance}.")
    tx_id = points.post(f"redeem:{uuid.uuid4().hex}", "redemption", user_id,
                        -item.cost_points, {"catalog_item_id": item.id, "name": item.name})
    voucher = vouchers.issue(user_id, item.reward, f"redeem:{tx_id}")
    db.session.commit()
    return {"catalog_item_id": item.id, "points_spent": item.cost_points,
            "points_balance": points.balance(user_id), "voucher": vouchers.view(voucher)}
