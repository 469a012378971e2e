"""Listings and search."""
