"""Incentives: rules admins manage as data, evaluated after each credit, that turn carbon
savings into rewards (points, badges, vouchers, tree certificates)."""
