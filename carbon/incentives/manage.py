"""Admin management of incentive rules: create, list, read, update (a new version, history
kept), activate, deactivate. Rewards reference the version that issued them; a new version
does not re-issue what earlier versions issued (rewards are unique per rule, user and key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from marketplace.core import audit
from marketplace.core.db import db
from marketplace.core.dbtypes import utcnow
from marketplace.core.errors import NotFound
from marketplace.core.http.pagination import id_page

from .models import IncentiveRule, IncentiveRuleVersion
from .rules import validate_rule


def _current(rule: IncentiveRule) -> IncentiveRuleVersion:
    return db.session.scalars(select(IncentiveRuleVersion).where(
        IncentiveRuleVersion.rule_id == rule.id,
        IncentiveRuleVersion.version == rule.version)).one()


def view(rule: IncentiveRule, version: IncentiveRuleVersion | None = None) -> dict[str, Any]:
    v = version or _current(rule)
    caps = {"points_per_day": None, "points_per_month": None, "budget_points": None,
            **(v.caps or {})}
    return {"id": rule.id, "version": v.version, "name": v.name, "type": v.type,
            "params": v.params, "reward": v.reward, "valid_from": v.valid_from,
            "valid_to": v.valid_to, "caps": caps, "active": rule.active,
            "budget_spent": rule.spent_points,
            "budget_exhausted": caps["budget_points"] is not None
            and rule.spent_points >= caps["budget_points"],
            "created_at": rule.created_at, "updated_at": v.created_at}


def get(rule_id: int) -> IncentiveRule:
    rule = db.session.get(IncentiveRule, rule_id)
    if rule is None:
        raise NotFound("No such incentive rule.")
    return rule


def _version(rule_id: int, number: int, definition: dict, admin_id: int | None):
    return IncentiveRuleVersion(rule_id=rule_id, version=number, name=definition["name"],
                                type=definition["type"], params=definition["params"],
                                reward=definition["reward"], caps=definition["caps"],
                                valid_from=definition["valid_from"],
                                valid_to=definition["valid_to"], created_by=admin_id)


def create(data: dict[str, Any], admin_id: int | None = None) -> dict[str, Any]:
    definition = validate_rule(data)
    rule = IncentiveRule(version=1, active=data.get("active", True))
    db.session.add(rule)
    db.session.flush()
    version = _version(rule.id, 1, definition, admin_id)
    db.session.add(version)
    audit.record("incentive_rule.create", "incentive_rule", rule.id, actor_id=admin_id)
    db.session.commit()
    return view(rule, version)


def update(rule_id: int, data: dict[str, Any], admin_id: int | None = None) -> dict[str, Any]:
    definition = validate_rule(data)
    rule = db.session.scalars(select(IncentiveRule).where(IncentiveRule.id == rule_id)
                              .with_for_update()).first()
    if rule is None:
        raise NotFound("No such incentive rule.")
    rule.version += 1
    rule.updated_at = utcnow()
    if "active" in data:
        rule.active = data["active"]
    version = _version(rule.id, rule.version, definition, admin_id)
    db.session.add(version)
    audit.record("incentive_rule.update", "incentive_rule", rule.id, actor_id=admin_id,
                 details={"version": rule.version})
    db.session.commit()
    return view(rule, version)


def set_active(rule_id: int, active: bool, admin_id: int | None = None) -> dict[str, Any]:
    rule = get(rule_id)
    rule.active = active
    rule.updated_at = utcnow()
    audit.record("incentive_rule.activate" if active else "incentive_rule.deactivate",
                 "incentive_rule", rule.id, actor_id=admin_id)
    db.session.commit()
    return view(rule)


def page(limit: int, cursor: str | None, active: bool | None = None) -> dict[str, Any]:
    """Rules at their current version, newest first (core pagination)."""
    query = select(IncentiveRule, IncentiveRuleVersion).join(
        IncentiveRuleVersion, and_(IncentiveRuleVersion.rule_id == IncentiveRule.id,
                                   IncentiveRuleVersion.version == IncentiveRule.version))
    if active is not None:
        query = query.where(IncentiveRule.active.is_(active))
    result = id_page(query, IncentiveRule.id, limit, cursor, scalars=False,
                     key=lambda row: row[0].id)
    result["items"] = [view(rule, version) for rule, version in result["items"]]
    return result


def versions(rule_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The rule's history, oldest version first (core pagination)."""
    rule = get(rule_id)
    result = id_page(select(IncentiveRuleVersion).where(IncentiveRuleVersion.rule_id == rule_id),
                     IncentiveRuleVersion.id, limit, cursor, descending=False)
    result["items"] = [view(rule, v) for v in result["items"]]
    return result
