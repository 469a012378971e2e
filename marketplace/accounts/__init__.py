"""Accounts: registration, login, tokens, admins."""
