"""Moderation: reports of listings and users, suspensions, and the admin audit log view."""
