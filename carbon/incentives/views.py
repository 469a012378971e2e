"""HTTP API of incentives: admin rules, simulation, catalogue and flags; users' rewards.

Every list is a page ``{items, next_cursor}`` (``limit``, ``cursor``: core pagination); every
POST that creates something (and the PUT that writes a rule's new version) honours
``Idempotency-Key``."""

from __future__ import annotations

from marketplace.core.http.auth import current_user
from marketplace.core.http.blueprint import Blueprint
from marketplace.core.http.pagination import PageArgsSchema

from . import antigaming, catalog, manage, rewards
from .reward_schemas import (
    BadgePageSchema,
    CatalogArgs,
    CatalogItemInSchema,
    CatalogItemPageSchema,
    CatalogItemPatchSchema,
    CatalogItemSchema,
    CertificatePageSchema,
    FlagPageSchema,
    FlagsArgs,
    RedeemInSchema,
    RedemptionSchema,
    RewardsSummarySchema,
    VoucherArgs,
    VoucherPageSchema,
)
from .rules import validate_rule
from .schemas import (
    RuleInSchema,
    RuleListArgs,
    RulePageSchema,
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
@blp.idempotent()
@blp.arguments(RuleInSchema)
@blp.response(201, RuleSchema)
def create_rule(data):
    """Create a rule (version 1); parameters are validated for its type (422, field errors
    under dotted paths such as `params.every_g`)."""
    return manage.create(data, current_user().id)


@blp.route(RULES, methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(RuleListArgs, location="query")
@blp.response(200, RulePageSchema)
@blp.errors(422)
def list_rules(args):
    """Rules at their current version, newest first (`?active=` filters)."""
    return manage.page(args["limit"], args.get("cursor"), args.get("active"))


@blp.route(f"{RULES}/<int:rule_id>", methods=["GET"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def get_rule(rule_id):
    return manage.view(manage.get(rule_id))


@blp.route(f"{RULES}/<int:rule_id>", methods=["PUT"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(RuleInSchema)
@blp.response(200, RuleSchema)
@blp.errors(404)
def update_rule(data, rule_id):
    """Replace the rule's definition with a new version (earlier versions are kept; rewards
    they issued are not issued again). Each call writes a version: send an
    `Idempotency-Key` to retry safely."""
    return manage.update(rule_id, data, current_user().id)


@blp.route(f"{RULES}/<int:rule_id>/versions", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, RulePageSchema)
@blp.errors(404, 422)
def rule_versions(args, rule_id):
    """The rule's history, oldest version first."""
    return manage.versions(rule_id, args["limit"], args.get("cursor"))


@blp.route(f"{RULES}/<int:rule_id>/activate", methods=["POST"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def activate_rule(rule_id):
    """Switch the rule on (creates nothing; calling it again changes nothing)."""
    return manage.set_active(rule_id, True, current_user().id)


@blp.route(f"{RULES}/<int:rule_id>/deactivate", methods=["POST"])
@blp.auth(role="admin")
@blp.response(200, RuleSchema)
@blp.errors(404)
def deactivate_rule(rule_id):
    """Switch the rule off (creates nothing; calling it again changes nothing)."""
    return manage.set_active(rule_id, False, current_user().id)


@blp.route(f"{RULES}/simulate", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(SimulateInSchema)
@blp.response(200, SimulationSchema)
def simulate_rule(data):
    """Evaluate a draft rule over every account's credit history (numpy, vectorised): how many
    users would get what, and the points cost. Issues nothing; with an `Idempotency-Key` a
    retry returns the first run's figures."""
    return simulate(validate_rule(data["rule"]))


@blp.route("/admin/incentives/flags", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(FlagsArgs, location="query")
@blp.response(200, FlagPageSchema)
@blp.errors(422)
def flags(args):
    """Credits that earned no rewards (self-trade, pair limit, daily cap), newest first."""
    return antigaming.flagged(args.get("cursor"), args["limit"])


@blp.route("/admin/rewards/catalog", methods=["POST"])
@blp.auth(role="admin")
@blp.idempotent()
@blp.arguments(CatalogItemInSchema)
@blp.response(201, CatalogItemSchema)
def create_catalog_item(data):
    """Add a voucher to the catalogue (money as `{amount, currency}`)."""
    return catalog.create(data)


@blp.route("/admin/rewards/catalog", methods=["GET"])
@blp.auth(role="admin")
@blp.arguments(CatalogArgs, location="query")
@blp.response(200, CatalogItemPageSchema)
@blp.errors(422)
def admin_catalog(args):
    """Every catalogue item, inactive ones included, cheapest first."""
    return catalog.page(args["limit"], args.get("cursor"), include_inactive=True)


@blp.route("/admin/rewards/catalog/<int:item_id>", methods=["PATCH"])
@blp.auth(role="admin")
@blp.arguments(CatalogItemPatchSchema)
@blp.response(200, CatalogItemSchema)
@blp.errors(404, 422)
def update_catalog_item(data, item_id):
    return catalog.update(item_id, data)


@blp.route("/rewards", methods=["GET"])
@blp.auth()
@blp.response(200, RewardsSummarySchema)
def my_rewards():
    """The caller's points balance and how many badges, vouchers and tree certificates they
    hold; the lists themselves are paged at `/rewards/badges`, `/rewards/vouchers` and
    `/rewards/certificates`."""
    return rewards.summary(current_user().id)


@blp.route("/rewards/badges", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, BadgePageSchema)
@blp.errors(422)
def my_badges(args):
    """The caller's badges, newest first."""
    return rewards.badges(current_user().id, args["limit"], args.get("cursor"))


@blp.route("/rewards/vouchers", methods=["GET"])
@blp.auth()
@blp.arguments(VoucherArgs, location="query")
@blp.response(200, VoucherPageSchema)
@blp.errors(422)
def my_vouchers(args):
    """The caller's vouchers (revoked ones left out; `?status=` filters), newest first."""
    return rewards.user_vouchers(current_user().id, args["limit"], args.get("cursor"),
                                 args.get("status"))


@blp.route("/rewards/certificates", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CertificatePageSchema)
@blp.errors(422)
def my_certificates(args):
    """The caller's tree certificates, newest first."""
    return rewards.certificates(current_user().id, args["limit"], args.get("cursor"))


@blp.route("/rewards/catalog", methods=["GET"])
@blp.auth()
@blp.arguments(CatalogArgs, location="query")
@blp.response(200, CatalogItemPageSchema)
@blp.errors(422)
def public_catalog(args):
    """What points can be spent on (active items), cheapest first."""
    return catalog.page(args["limit"], args.get("cursor"))


@blp.route("/rewards/redeem", methods=["POST"])
@blp.auth()
@blp.idempotent()
@blp.arguments(RedeemInSchema)
@blp.response(201, RedemptionSchema)
@blp.errors(404, 409)
def redeem(data):
    """Spend points on a catalogue item; 409 when the balance does not cover it."""
    return catalog.redeem(current_user().id, data["catalog_item_id"])
