"""The address book: each user sees and changes only their own addresses (others: 404)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from marketplace.accounts.models import User
from marketplace.addresses.models import Address
from marketplace.addresses.validation import normalize
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.http.pagination import id_page

MAX_ADDRESSES = 20


def list_addresses(user: User, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    return id_page(select(Address).where(Address.user_id == user.id), Address.id, limit, cursor)


def get_own(address_id: int, user_id: int) -> Address:
    """The user's address; 404 for anyone else's (invisible = nonexistent)."""
    address = db.session.get(Address, address_id)
    if address is None or address.user_id != user_id:
        raise NotFound("No such address.")
    return address


def default_of(user_id: int) -> Address | None:
    return db.session.scalar(select(Address).where(Address.user_id == user_id,
                                                    Address.is_default.is_(True)))


def _make_default(address: Address) -> None:
    db.session.execute(update(Address).where(Address.user_id == address.user_id,
                                             Address.id != address.id,
                                             Address.is_default.is_(True))
                       .values(is_default=False).execution_options(synchronize_session=False))
    address.is_default = True


def _lock_book(user_id: int) -> None:
    """Serialise changes to one user's address book (the count against the limit, the one
    default): concurrent requests of the same user wait here in turn. The user row, locked
    FOR NO KEY UPDATE, which rows referencing the user (their FK checks) do not wait for."""
    db.session.execute(select(User.id).where(User.id == user_id)
                       .with_for_update(key_share=True))


def create(user: User, data: dict[str, Any]) -> Address:
    """Add an address (validated for its country). The first one, or one sent with
    ``is_default: true``, becomes the default. Commits."""
    _lock_book(user.id)
    count = db.session.scalar(select(func.count()).select_from(Address)
                              .where(Address.user_id == user.id))
    if count >= MAX_ADDRESSES:
        raise Conflict(f"An address book holds at most {MAX_ADDRESSES} addresses.")
    values = normalize({f: data.get(f) for f in Address.FIELDS})
    address = Address(user_id=user.id, is_default=False, **values)
    db.session.add(address)
    db.session.flush()
    if data.get("is_default") or count == 0:
        _make_default(address)
    db.session.commit()
    return address


def update_address(address_id: int, user: User, data: dict[str, Any]) -> Address:
    """Change some fields; the whole address is validated again. ``is_default: true`` makes
    it the default (``false`` on the default is refused: choose another one instead)."""
    _lock_book(user.id)
    address = get_own(address_id, user.id)
    merged = {f: data.get(f, getattr(address, f)) for f in Address.FIELDS}
    values = normalize(merged)
    if data.get("is_default") is False and address.is_default:
        raise Conflict("Make another address the default instead.",
                       {"is_default": ["This is the default address."]})
    for key, value in values.items():
        setattr(address, key, value)
    if data.get("is_default"):
        _make_default(address)
    address.updated_at = utcnow()
    db.session.commit()
    return address


def delete(address_id: int, user: User) -> None:
    """Delete an address (trades keep their own copy). If it was the default, the most
    recently added remaining address becomes the default."""
    _lock_book(user.id)
    address = get_own(address_id, user.id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        newest = db.session.scalar(select(Address).where(Address.user_id == user.id)
                                   .order_by(Address.id.desc()).limit(1))
        if newest is not None:
            newest.is_default = True
    db.session.commit()
