"""Minor units per currency: amounts shown in messages use ISO 4217's exponent."""

import pytest

from marketplace.core.money import _EXPONENT, ISO_4217, format_money


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (52000, "EUR", "520.00 EUR"), (150000, "JPY", "150000 JPY"), (150000, "PYG", "150000 PYG"),
    (150000, "UGX", "150000 UGX"), (150000, "XPF", "150000 XPF"),
    (150000, "IQD", "150.000 IQD"), (1500, "LYD", "1.500 LYD"), (-5, "USD", "-0.05 USD"),
])
def test_format_money_uses_the_currency_s_minor_units(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_every_exponent_is_for_an_accepted_currency():
    assert set(_EXPONENT) <= ISO_4217
    assert set(_EXPONENT.values()) == {0, 3}
