"""HTTP API of incentives: admin rules, simulation, catalogue and flags; users' rewards."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint

from . import antigaming, catalog, manage, rewards
from .rules import validate_rule
from .schemas import (
    CatalogItemInSchema,
    CatalogItemPatchSchema,
    CatalogItemSchema,
    FlagPageSchema,
    FlagsArgs,
    HoldingsSchema,
    RedeemInSchema,
    RedemptionSchema,
    RuleInSchema,
    RuleListArgs,
    RuleSchema,
    SimulateInSchema,
    SimulationSchema,
)
from .simulate import simulate

blp = Blueprint("incentives", __name__, url_prefix="/api/v1",
                description="Incentive rules and rewards")

RULES = "/admin/incentive-rules"


@blp.route(RULES, methods=["POST"])
@blp.auth(role="admin")
@blp.arguments(RuleInSchema)
@blp.response(201, RuleSchema)
@blp.errors(422)
def create_rule(data):
    """Create a rule (version 1); parameters are validated for its type."""
    return manage.create(data, current_user().id)


@blp.route(RULES, methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(RuleListArgs, location="query")
@blp.response(200, RuleSchema(many=True))
def list_rules(args):
    """Every rule at its current version."""
    return manage.listing(args.get("active"))


@blp.route(f"{RULES}/<int:rule_id>", methods=["GET"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def get_rule(rule_id):
    return manage.view(manage.get(rule_id))


@blp.route(f"{RULES}/<int:rule_id>", methods=["PUT"])
@blp.auth(role="admin")
@blp.arguments(RuleInSchema)
@blp.response(200, RuleSchema)
@blp.errors(404, 422)
def update_rule(data, rule_id):
    """Replace the rule's definition with a new version (earlier versions are kept; rewards
    they issued are not issued again)."""
    return manage.update(rule_id, data, current_user().id)


@blp.route(f"{RULES}/<int:rule_id>/versions", methods=["GET"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema(many=True))
@blp.errors(404)
def rule_versions(rule_id):
    """The rule's history, oldest version first."""
    return manage.versions(rule_id)


@blp.route(f"{RULES}/<int:rule_id>/activate", methods=["POST"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def activate_rule(rule_id):
    return manage.set_active(rule_id, True)


@blp.route(f"{RULES}/<int:rule_id>/deactivate", methods=["POST"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def deactivate_rule(rule_id):
    return manage.set_active(rule_id, False)


@blp.route(f"{RULES}/simulate", methods=["POST"])
@blp.auth(role="admin")
@blp.arguments(SimulateInSchema)
@blp.response(200, SimulationSchema)
@blp.errors(422)
def simulate_rule(data):
    """Evaluate a draft rule over every account's credit history (numpy, vectorised): how many
    users would get what, and the points cost. Issues nothing."""
    return simulate(validate_rule(data["rule"]))


@blp.route("/admin/incentives/flags", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(FlagsArgs, location="query", as_kwargs=True)
@blp.response(200, FlagPageSchema)
def flags(cursor, limit):
    """Credits that earned no rewards (self-trade, pair limit, daily cap), newest first."""
    return antigaming.flagged(cursor, limit)


@blp.route("/admin/rewards/catalog", methods=["POST"])
@blp.auth(role="admin")
@blp.arguments(CatalogItemInSchema)
@blp.response(201, CatalogItemSchema)
@blp.errors(422)
def create_catalog_item(data):
    return catalog.create(data)


@blp.route("/admin/rewards/catalog", methods=["GET"])
@blp.auth(role="admin")
@blp.response(200, CatalogItemSchema(many=True))
def admin_catalog():
    """Every catalogue item, inactive ones included."""
    return catalog.listing(include_inactive=True)


@blp.route("/admin/rewards/catalog/<int:item_id>", methods=["PATCH"])
@blp.auth(role="admin")
@blp.arguments(CatalogItemPatchSchema)
@blp.response(200, CatalogItemSchema)
@blp.errors(404, 422)
def update_catalog_item(data, item_id):
    return catalog.update(item_id, data)


@blp.route("/rewards", methods=["GET"])
@blp.auth()
@blp.response(200, HoldingsSchema)
def my_rewards():
    """The caller's points balance, badges, vouchers and tree certificates."""
    return rewards.holdings(current_user().id)


@blp.route("/rewards/catalog", methods=["GET"])
@blp.auth()
@blp.response(200, CatalogItemSchema(many=True))
def public_catalog():
    """What points can be spent on."""
    return catalog.listing()


@blp.route("/rewards/redeem", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(RedeemInSchema)
@blp.response(201, RedemptionSchema)
@blp.errors(404, 409)
def redeem(data):
    """Spend points on a catalogue item; 409 when the balance does not cover it."""
    return catalog.redeem(current_user().id, data["catalog_item_id"])
