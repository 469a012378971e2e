"""Reloop marketplace: the application (``marketplace.app.create_app``), its platform
(``marketplace.core``) and its feature packages."""
