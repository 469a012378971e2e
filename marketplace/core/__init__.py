"""The platform: plumbing every feature uses (database and types, configuration, the HTTP
layer, outbox, job enqueueing, logs, health, money). It imports no feature package and no
``workers``."""
