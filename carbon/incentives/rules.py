"""Rule types and the validation of a rule's parameters, reward and caps (422 with field
errors on write), plus the pure arithmetic evaluation and simulation share.

Types (``params``):

- ``threshold`` ``{"every_kg": 10}``: each multiple of ``every_kg`` of cumulative avoided
  emissions crossed by a credit earns the reward once (several at once: each once).
- ``milestone`` ``{"at_kg": 100}`` or ``{"event": "first_trade"}``: once per user, on the first
  rewardable credit at or past the amount (or on the first rewardable trade).
- ``streak`` ``{"months": 3}``: each time a run of consecutive calendar months (UTC) with a
  rewardable credited trade reaches a multiple of ``months``.
- ``campaign`` ``{"categories": ["smartphone"], "multiplier": 2}``: trades in those categories
  within the validity window (required) earn ``reward.amount`` points per kg times the
  multiplier.
- ``tree`` ``{"every_kg": 17.9}`` (default): a tree certificate each 17.9 kg.

Every type also takes ``credit_kinds`` (``["trade"]``, ``["recycling"]`` or both): the kinds
of ledger credit the rule counts, default all (a ``first_trade`` milestone: trades). A rule
restricted to one kind still reads the user's cumulative grams of every kind.

Rewards: ``{"kind": "points", "amount": 100}``, ``{"kind": "badge", "badge": "first-trade"}``,
``{"kind": "voucher", "percent_off": 10, "max_off": 2000, "expires_days": 30}`` (or
``"amount_off"`` + ``"currency"``; optional ``"min_price"``), ``{"kind": "tree"}``.
Caps (points rewards): ``points_per_day``, ``points_per_month`` (per user), ``budget_points``
(the rule's total; once spent the rule stops issuing).
"""

from __future__ import annotations

import re
from typing import Any

from marketplace.core.errors import InvalidInput
from marketplace.core.money import MAX_AMOUNT, is_currency

from .models import CREDIT_KINDS, RewardKind, RuleType

TREE_KG = 17.9
EVENTS = ("first_trade",)
CAP_KEYS = ("points_per_day", "points_per_month", "budget_points")
BADGE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
_BADGE = re.compile(BADGE_PATTERN)

# The API gives thresholds in grams (carbon/incentives/schemas.py converts them to the kg the
# engine keeps): errors are reported under the API's names.
API_PATHS = {"params.every_kg": "params.every_g", "params.at_kg": "params.at_g"}

ALLOWED_REWARDS: dict[str, tuple[str, ...]] = {
    RuleType.THRESHOLD: (RewardKind.POINTS, RewardKind.VOUCHER, RewardKind.BADGE),
    RuleType.MILESTONE: (RewardKind.BADGE, RewardKind.POINTS, RewardKind.VOUCHER),
    RuleType.STREAK: (RewardKind.POINTS, RewardKind.BADGE, RewardKind.VOUCHER),
    RuleType.CAMPAIGN: (RewardKind.POINTS,),
    RuleType.TREE: (RewardKind.TREE,),
}


def grams(kg: float) -> int:
    """kg to whole grams (the unit of the ledger), rounded to the nearest gram."""
    return round(kg * 1000)


def _num(value: Any, lo: float, hi: float, integer: bool = False) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number." if not integer else "Must be an integer."
    if integer and not isinstance(value, int):
        return "Must be an integer."
    if not lo <= value <= hi:
        return f"Must be between {lo} and {hi}."
    return None


def _check(errors: dict, path: str, message: str | None) -> None:
    if message:
        errors.setdefault(path, []).append(message)


def _unknown(errors: dict, path: str, given: dict, allowed: tuple[str, ...]) -> None:
    for key in given:
        if key not in allowed:
            _check(errors, f"{path}.{key}", "Unknown field.")


def validate_params(rule_type: str, params: dict, errors: dict) -> dict:
    out: dict[str, Any] = {}
    if "credit_kinds" in params:
        params = dict(params)
        kinds = params.pop("credit_kinds")
        if not isinstance(kinds, list) or not kinds or not all(
                k in CREDIT_KINDS for k in kinds) or len(set(kinds)) != len(kinds):
            _check(errors, "params.credit_kinds",
                   f"Must be a non-empty list of distinct kinds among: {', '.join(CREDIT_KINDS)}.")
        out["credit_kinds"] = kinds
    if rule_type in (RuleType.THRESHOLD, RuleType.TREE):
        _unknown(errors, "params", params, ("every_kg",))
        every = params.get("every_kg", TREE_KG if rule_type == RuleType.TREE else None)
        if every is None:
            _check(errors, "params.every_kg", "Missing data for required field.")
        else:
            _check(errors, "params.every_kg", _num(every, 0.001, 1_000_000))
            out["every_kg"] = every
    elif rule_type == RuleType.MILESTONE:
        _unknown(errors, "params", params, ("at_kg", "event"))
        if ("at_kg" in params) == ("event" in params):
            _check(errors, "params", "Give exactly one of at_kg and event.")
        elif "at_kg" in params:
            _check(errors, "params.at_kg", _num(params["at_kg"], 0.001, 1_000_000))
            out["at_kg"] = params["at_kg"]
        else:
            if params["event"] not in EVENTS:
                _check(errors, "params.event", f"Must be one of: {', '.join(EVENTS)}.")
            out["event"] = params["event"]
    elif rule_type == RuleType.STREAK:
        _unknown(errors, "params", params, ("months",))
        _check(errors, "params.months", _num(params.get("months"), 1, 120, integer=True)
               if "months" in params else "Missing data for required field.")
        out["months"] = params.get("months")
    elif rule_type == RuleType.CAMPAIGN:
        _unknown(errors, "params", params, ("categories", "multiplier"))
        cats = params.get("categories")
        if not isinstance(cats, list) or not cats or not all(
                isinstance(c, str) and 0 < len(c) <= 64 for c in cats):
            _check(errors, "params.categories", "Must be a non-empty list of categories.")
        _check(errors, "params.multiplier", _num(params.get("multiplier"), 0.01, 100)
               if "multiplier" in params else "Missing data for required field.")
        out.update(categories=cats, multiplier=params.get("multiplier"))
    return out


def validate_reward(rule_type: str | None, reward: dict, errors: dict) -> dict:
    kind = reward.get("kind")
    allowed = ALLOWED_REWARDS.get(rule_type, tuple(RewardKind)) if rule_type else tuple(
        RewardKind)
    if kind not in allowed:
        _check(errors, "reward.kind", f"Must be one of: {', '.join(allowed)}.")
        return {}
    out: dict[str, Any] = {"kind": kind}
    if kind == RewardKind.POINTS:
        _unknown(errors, "reward", reward, ("kind", "amount"))
        _check(errors, "reward.amount", _num(reward.get("amount"), 1, 10**9, integer=True))
        out["amount"] = reward.get("amount")
    elif kind == RewardKind.BADGE:
        _unknown(errors, "reward", reward, ("kind", "badge"))
        badge = reward.get("badge")
        if not isinstance(badge, str) or not _BADGE.match(badge):
            _check(errors, "reward.badge", "Must be a slug (a-z, 0-9, -), 1-64 characters.")
        out["badge"] = badge
    elif kind == RewardKind.VOUCHER:
        out.update(validate_voucher_spec(reward, errors, "reward"))
    else:
        _unknown(errors, "reward", reward, ("kind",))
    return out


def validate_voucher_spec(spec: dict, errors: dict, path: str) -> dict:
    _unknown(errors, path, spec, ("kind", "percent_off", "max_off", "amount_off", "currency",
                                  "min_price", "expires_days"))
    out: dict[str, Any] = {"kind": RewardKind.VOUCHER.value}
    if ("percent_off" in spec) == ("amount_off" in spec):
        _check(errors, path, "Give exactly one of percent_off and amount_off.")
    elif "percent_off" in spec:
        _check(errors, f"{path}.percent_off", _num(spec["percent_off"], 1, 100, integer=True))
        out["percent_off"] = spec["percent_off"]
        if spec.get("max_off") is not None:
            _check(errors, f"{path}.max_off", _num(spec["max_off"], 1, MAX_AMOUNT, True))
            out["max_off"] = spec["max_off"]
    else:
        _check(errors, f"{path}.amount_off", _num(spec["amount_off"], 1, MAX_AMOUNT, True))
        out["amount_off"] = spec["amount_off"]
        if not is_currency(spec.get("currency")):
            _check(errors, f"{path}.currency", "A fixed amount needs an ISO 4217 currency.")
    if spec.get("currency") is not None:
        if not is_currency(spec["currency"]):
            _check(errors, f"{path}.currency", "Not an ISO 4217 currency code.")
        out["currency"] = spec["currency"]
    if spec.get("min_price") is not None:
        _check(errors, f"{path}.min_price", _num(spec["min_price"], 0, MAX_AMOUNT, True))
        out["min_price"] = spec["min_price"]
    days = spec.get("expires_days", 30)
    _check(errors, f"{path}.expires_days", _num(days, 1, 3650, integer=True))
    out["expires_days"] = days
    return out


def validate_caps(caps: dict | None, reward_kind: str | None, errors: dict) -> dict:
    caps = caps or {}
    _unknown(errors, "caps", caps, CAP_KEYS)
    out = {}
    for key in CAP_KEYS:
        value = caps.get(key)
        if value is not None:
            _check(errors, f"caps.{key}", _num(value, 1, 10**12, integer=True))
            if reward_kind != RewardKind.POINTS:
                _check(errors, f"caps.{key}", "Caps apply to points rewards only.")
        out[key] = value
    return out


def validate_rule(data: dict) -> dict:
    """Check a rule body (already shaped by the schema); return its normalised definition or
    raise InvalidInput with every field error."""
    errors: dict[str, list[str]] = {}
    rule_type = data.get("type")
    if rule_type not in tuple(RuleType):
        _check(errors, "type", f"Must be one of: {', '.join(RuleType)}.")
        rule_type = None
    params = data.get("params") or {}
    reward = data.get("reward") or {}
    out = {"name": data.get("name"), "type": rule_type,
           "params": validate_params(rule_type, params, errors) if rule_type else {},
           "reward": validate_reward(rule_type, reward, errors),
           "valid_from": data.get("valid_from"), "valid_to": data.get("valid_to")}
    out["caps"] = validate_caps(data.get("caps"), out["reward"].get("kind"), errors)
    if out["valid_from"] and out["valid_to"] and out["valid_to"] <= out["valid_from"]:
        _check(errors, "valid_to", "Must be after valid_from.")
    if rule_type == RuleType.CAMPAIGN and not (out["valid_from"] and out["valid_to"]):
        _check(errors, "valid_to", "A campaign needs a date window (valid_from and valid_to).")
    if errors:
        raise InvalidInput("The rule is invalid; see errors.",
                           {API_PATHS.get(path, path): msgs for path, msgs in errors.items()})
    return out


def campaign_points(grams_: int, per_kg: int, multiplier: float) -> int:
    """Points a campaign gives a trade: ``per_kg`` points per kg times the multiplier, in
    integers (multiplier to hundredths), floored. Evaluation and simulation both use this."""
    return grams_ * per_kg * round(multiplier * 100) // 100_000
