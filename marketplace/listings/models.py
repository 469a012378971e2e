"""Listings of used devices, each with its stored footprint estimate."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import db
from marketplace.core.dbtypes import BigIntPK, UTCDateTime, utcnow


class ListingStatus(enum.StrEnum):
    ACTIVE = "active"
    RESERVED = "reserved"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"
    SUSPENDED = "suspended"


# Device fields: changing any of them re-estimates the footprint.
DEVICE_FIELDS = ("category", "brand", "model", "storage_gb", "ram_gb", "screen_inches",
                 "release_year", "condition", "battery_health_pct", "channel")
# Frozen once an offer is accepted or a trade exists (what the buyer agreed to buy).
FROZEN_FIELDS = tuple(f for f in DEVICE_FIELDS if f != "channel")
MAX_PHOTOS = 12  # URLs and uploads together
FOOTPRINT_COLUMNS = ("embodied_low_g", "embodied_central_g", "embodied_high_g",
                     "avoided_low_g", "avoided_central_g", "avoided_high_g")

_ACTIVE = "status = 'active'"
LIVE_STATUSES = ("active", "reserved")
_LIVE_DEVICE = "device_identity_id IS NOT NULL AND status IN ('active', 'reserved')"
# Full-text configuration: 'simple' does no stemming, which suits a multilingual marketplace
# and model names ("iphone", "13", "pro").
TS_CONFIG = literal_column("'simple'")
# The search document of "title description brand model": on PostgreSQL a stored tsvector
# (GIN-indexed; stored so that filtering rows in an index-ordered scan costs no re-parsing),
# on SQLite the lower-cased text for the substring fallback.
SearchDocument = TSVECTOR().with_variant(Text(), "sqlite")


class Listing(db.Model):
    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=ListingStatus.ACTIVE.value)
    version: Mapped[int] = mapped_column(Integer, default=1)

    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    storage_gb: Mapped[float | None] = mapped_column(Float, default=None)
    ram_gb: Mapped[float | None] = mapped_column(Float, default=None)
    screen_inches: Mapped[float | None] = mapped_column(Float, default=None)
    release_year: Mapped[int | None] = mapped_column(Integer, default=None)
    condition: Mapped[str] = mapped_column(String(16))
    battery_health_pct: Mapped[float | None] = mapped_column(Float, default=None)
    # How the device travels to the buyer (the estimate's trade route): parcel, local_pickup
    # or refurbished (a professional refurbisher's listing).
    channel: Mapped[str] = mapped_column(String(16), default="parcel", server_default="parcel")

    # Listed on behalf of an organisation (the seller is its owner or buyer): its share of the
    # carbon credit goes to the organisation's account.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), default=None)

    price_amount: Mapped[int] = mapped_column(BigInteger)
    price_currency: Mapped[str] = mapped_column(String(3))
    # Shipping charged to the buyer on top of the price (0: free shipping), in the price's
    # currency; and whether the buyer may collect the device in person (``city``).
    shipping_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    local_pickup: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Uploaded photos, in order: {id, url, thumb_url, width, height} (marketplace.uploads).
    photo_uploads: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    search_doc: Mapped[Any] = mapped_column(SearchDocument)

    embodied_low_g: Mapped[int] = mapped_column(BigInteger)
    embodied_central_g: Mapped[int] = mapped_column(BigInteger)
    embodied_high_g: Mapped[int] = mapped_column(BigInteger)
    avoided_low_g: Mapped[int] = mapped_column(BigInteger)
    avoided_central_g: Mapped[int] = mapped_column(BigInteger)
    avoided_high_g: Mapped[int] = mapped_column(BigInteger)
    footprint_method: Mapped[str] = mapped_column(String(32))
    methodology_version: Mapped[str] = mapped_column(String(32))
    footprint_assumptions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # E-waste and materials avoided (ranges) and the credit note, as the estimate gave them.
    footprint_extras: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    matched_reference: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    # The physical device, when the seller gave its IMEI or serial number (a keyed hash in
    # device_identities, never the number), and its previous owners on Reloop at listing time.
    device_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("device_identities.id", ondelete="SET NULL"), default=None)
    device_identity_kind: Mapped[str | None] = mapped_column(String(8), default=None)
    previous_owners: Mapped[int] = mapped_column(Integer, default=0)

    suspension_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # One index per search sort, over active listings only (keyset: sort value, id).
        Index("ix_listings_active_newest", "created_at", "id",
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
        # The price and avoided ones carry the search document (and the currency) as INCLUDE
        # columns, so that text + sort queries walk them index-only (search._walk and the
        # ties at a page's edge): bigger (~260 MB each at 1M listings), no heap fetch per row.
        # Price sorts and filters always name a currency (search.py): this is their walk (the
        # (price, id) index without the currency went in migration 0023: never used).
        Index("ix_listings_active_currency_price", "price_currency", "price_amount", "id",
              postgresql_include=["search_doc"],
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
        Index("ix_listings_active_category_price", "category", "price_amount", "id",
              postgresql_include=["price_currency", "search_doc"],
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
        Index("ix_listings_active_avoided", "avoided_central_g", "id",
              postgresql_include=["search_doc"],
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
        Index("ix_listings_active_category_avoided", "category", "avoided_central_g", "id",
              postgresql_include=["search_doc"],
              postgresql_where=text(_ACTIVE), sqlite_where=text(_ACTIVE)),
        # Text + price / avoided sorts on PostgreSQL: RUM indexes (extension ``rum``) return
        # text matches in the order of the attached value (marketplace/listings/search.py).
        Index("ix_listings_text_price", "search_doc", "price_amount", postgresql_using="rum",
              postgresql_ops={"search_doc": "rum_tsvector_addon_ops"},
              postgresql_with={"attach": "'price_amount'", "to": "'search_doc'"},
              postgresql_where=text(_ACTIVE), sqlite_where=text("0")),
        Index("ix_listings_text_avoided", "search_doc", "avoided_central_g",
              postgresql_using="rum", postgresql_ops={"search_doc": "rum_tsvector_addon_ops"},
              postgresql_with={"attach": "'avoided_central_g'", "to": "'search_doc'"},
              postgresql_where=text(_ACTIVE), sqlite_where=text("0")),
        Index("ix_listings_seller_status", "seller_id", "status"),
        # One live listing per physical device (the service's 409 comes first; this is the
        # guarantee under concurrency).
        Index("uq_listings_live_device", "device_identity_id", unique=True,
              postgresql_where=text(_LIVE_DEVICE), sqlite_where=text(_LIVE_DEVICE)),
        Index("ix_listings_methodology", "methodology_version", "status"),
        # GIN full-text index on PostgreSQL. SQLite's fallback scans instead, so there the
        # index is kept empty (partial on a false predicate) rather than a useless b-tree.
        Index("ix_listings_search", "search_doc", postgresql_using="gin",
              sqlite_where=text("0")),
    )

    # ---- representation ------------------------------------------------------------------
    @property
    def price(self) -> dict[str, Any]:
        return {"amount": self.price_amount, "currency": self.price_currency}

    @property
    def shipping_price(self) -> dict[str, Any]:
        return {"amount": self.shipping_amount or 0, "currency": self.price_currency}

    @property
    def location(self) -> dict[str, Any] | None:
        if self.city is None and self.country is None:
            return None
        return {"city": self.city, "country": self.country}

    @property
    def footprint(self) -> dict[str, Any]:
        def kg(grams: int) -> float:
            return round(grams / 1000.0, 3)

        return {
            "embodied_kgco2e": {"low": kg(self.embodied_low_g),
                                "central": kg(self.embodied_central_g),
                                "high": kg(self.embodied_high_g)},
            "avoided_kgco2e": {"low": kg(self.avoided_low_g),
                               "central": kg(self.avoided_central_g),
                               "high": kg(self.avoided_high_g)},
            "method": self.footprint_method,
            "methodology_version": self.methodology_version,
            "matched_reference": self.matched_reference,
            "channel": self.channel,
            **(self.footprint_extras or {}),
            "assumptions": self.footprint_assumptions,
        }

    @property
    def etag(self) -> str:
        return f'"listing-{self.id}-v{self.version}"'

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.status} {self.title!r}>"


# What the API shows of a listing: every column but the search document and the sale time.
PUBLIC_COLUMNS = tuple(c for c in Listing.__table__.c if c.key not in ("search_doc", "sold_at"))


class ListingRow:
    """A listing read as a plain row (``PUBLIC_COLUMNS``) for views that only show it: its
    columns as attributes and the model's computed fields (price, footprint, etag...). No ORM
    entity is built: for a page of 20, that is most of SQLAlchemy's cost."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    price = property(Listing.price.fget)
    shipping_price = property(Listing.shipping_price.fget)
    location = property(Listing.location.fget)
    footprint = property(Listing.footprint.fget)
    etag = property(Listing.etag.fget)


class SearchTermBound(db.Model):
    """For a word of the search documents and a sort key (``avoided``, ``avoided:<category>``,
    ``price:<currency>``, ``price:<currency>:<category>``): an interval holding the sort value
    of every active listing whose document has the word. Kept by a trigger on PostgreSQL
    (migration 0023), only ever widened; where a text + sort search's b-tree walk starts
    (search_sorted). Empty and unused on SQLite."""

    __tablename__ = "search_term_bounds"

    sort_key: Mapped[str] = mapped_column(String(48), primary_key=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    lo: Mapped[int] = mapped_column(BigInteger)
    hi: Mapped[int] = mapped_column(BigInteger)
