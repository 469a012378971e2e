"""Organisations: create, members by invitation, admin verification of recyclers, and the
membership checks other features call (``require_member``, ``require_acting``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from carbon.ledger import services as ledger
from marketplace.accounts.models import User
from marketplace.core import audit, mail
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.core.http.pagination import id_page
from marketplace.organisations.models import (
    ACTING_ROLES,
    Membership,
    MemberStatus,
    Organisation,
    OrgKind,
    Role,
)


def create(user: User, data: dict[str, Any]) -> Organisation:
    org = Organisation(name=data["name"].strip(), country=data["country"], kind=data["kind"],
                       created_by=user.id, certifications=[])
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER.value,
                              status=MemberStatus.ACTIVE.value, invited_by=user.id,
                              accepted_at=utcnow()))
    audit.record("organisation.create", "organisation", org.id, actor_id=user.id,
                 details={"kind": org.kind})
    db.session.commit()
    return org


def membership(org_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(
        Membership.organisation_id == org_id, Membership.user_id == user_id,
        Membership.status == MemberStatus.ACTIVE.value))


def require_member(org_id: int, user: User, roles: tuple[str, ...] | None = None
                   ) -> Organisation:
    """The organisation if ``user`` is an active member (with one of ``roles``); 404 for a
    non-member (admins see every organisation), 403 for a member without the role."""
    org = db.session.get(Organisation, org_id)
    member = membership(org_id, user.id) if org is not None else None
    if org is None or (member is None and not user.is_admin):
        raise NotFound("No such organisation.")
    if roles and (member is None or member.role not in roles):
        raise Forbidden(f"Only an organisation's {' or '.join(roles)} may do this.")
    return org


def require_acting(org_id: int, user_id: int) -> Organisation:
    """For listings, trades and handovers made on the organisation's behalf: the user must be
    an active owner or buyer (422 under ``organisation_id`` otherwise)."""
    member = membership(org_id, user_id)
    if member is None or member.role not in ACTING_ROLES:
        raise InvalidInput("You cannot act for this organisation.", {"organisation_id": [
            "You must be an owner or buyer of this organisation."]})
    return db.session.get(Organisation, org_id)


def get(org_id: int, user: User) -> Organisation:
    return require_member(org_id, user)


def mine(user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    ids = select(Membership.organisation_id).where(
        Membership.user_id == user.id, Membership.status == MemberStatus.ACTIVE.value)
    return id_page(select(Organisation).where(Organisation.id.in_(ids)), Organisation.id,
                   limit, cursor)


def recyclers(limit: int, cursor: str | None) -> dict[str, Any]:
    """Verified recyclers (public: what a user hands a device to)."""
    return id_page(select(Organisation).where(Organisation.kind == OrgKind.RECYCLER.value,
                                              Organisation.verified_at.is_not(None)),
                   Organisation.id, limit, cursor)


def members(org_id: int, user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    require_member(org_id, user)
    return id_page(select(Membership).where(Membership.organisation_id == org_id),
                   Membership.id, limit, cursor)


def invite(org_id: int, owner: User, data: dict[str, Any]) -> Membership:
    """Invite a user (by id or email) with a role; the address gets a message.

    An invitation by email is not matched to an account here (the answer would tell whoever
    creates an organisation which addresses have an account): it stays addressed to the email
    until someone who has verified that address accepts it (``accept``). An invitation by user
    id stores no email."""
    org = require_member(org_id, owner, (Role.OWNER.value,))
    user = None
    if data.get("user_id") is not None:
        user = db.session.get(User, data["user_id"])
        if user is None:
            raise InvalidInput("No such user.", {"user_id": ["No such user."]})
        to, email = user.email, None
        clash = Membership.user_id == user.id
    else:
        to = email = data["email"].strip().lower()
        clash = Membership.email == email
    existing = db.session.scalar(select(Membership).where(
        Membership.organisation_id == org_id, clash))
    if existing is not None:
        raise Conflict("This person is already a member or invited.")
    invitation = Membership(organisation_id=org_id, user_id=user.id if user else None,
                            email=email, role=data["role"], invited_by=owner.id,
                            status=MemberStatus.INVITED.value)
    db.session.add(invitation)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("This person is already a member or invited.") from None
    mail.queue_email(to, f"You are invited to join {org.name} on Reloop",
                     f"{owner.display_name} invites you to join {org.name} as {data['role']}.\n"
                     f"Accept with POST /api/v1/organisations/invitations/{invitation.id}/accept "
                     "once signed in with this address (verified).")
    audit.record("organisation.invite", "organisation", org_id, actor_id=owner.id,
                 details={"membership_id": invitation.id, "role": data["role"]})
    db.session.commit()
    return invitation


UNVERIFIED_INVITATION = ("This invitation was sent to your email address: verify it first "
                         "(POST /api/v1/auth/email-verification).")


def _by_email(user: User):
    """Invitations addressed to the user's email (only once they have verified it)."""
    return (Membership.user_id.is_(None)) & (Membership.email == user.email)


def accept(membership_id: int, user: User) -> Membership:
    invitation = db.session.get(Membership, membership_id)
    by_email = (invitation is not None and invitation.user_id is None
                and invitation.email == user.email)
    if invitation is None or not (invitation.user_id == user.id or by_email):
        raise NotFound("No such invitation.")
    if by_email and not user.is_verified:
        raise Forbidden(UNVERIFIED_INVITATION)
    if invitation.status == MemberStatus.ACTIVE.value:
        return invitation
    invitation.user_id, invitation.status = user.id, MemberStatus.ACTIVE.value
    invitation.email = None  # the member is the account now
    invitation.accepted_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("You are already a member of this organisation.") from None
    return invitation


def my_invitations(user: User, limit: int, cursor: str | None) -> dict[str, Any]:
    return id_page(select(Membership).where(
        Membership.status == MemberStatus.INVITED.value,
        or_(Membership.user_id == user.id, _by_email(user)) if user.is_verified
        else Membership.user_id == user.id),
        Membership.id, limit, cursor)


def verify_recycler(org_id: int, admin: User, certifications: list[dict[str, Any]]
                    ) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound("No such organisation.")
    if org.kind != OrgKind.RECYCLER.value:
        raise Conflict("Only recyclers are verified.")
    org.certifications = [{**c, "valid_until": c["valid_until"].isoformat()
                           if c.get("valid_until") else None} for c in certifications]
    org.verified_at, org.verified_by = utcnow(), admin.id
    audit.record("organisation.verify", "organisation", org_id, actor_id=admin.id,
                 details={"certifications": org.certifications})
    db.session.commit()
    return org


def account(org_id: int, user: User) -> dict[str, Any]:
    """The organisation's carbon account (members): balance and credited trades."""
    require_member(org_id, user)
    acct = ledger.org_account_of(org_id)
    balance = (acct.balance_g or 0) if acct is not None else 0
    return {"organisation_id": org_id, "balance_g": balance,
            "balance_kgco2e": ledger.kg(balance)}


def member_count(org_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == org_id,
        Membership.status == MemberStatus.ACTIVE.value)) or 0

