"""The address book: users' postal addresses, validated per country (issue 15).

Trades snapshot one of them as the shipping address (``marketplace.trades.fulfilment``).
"""
