"""Offers and counter-offers on listings."""
