"""Outbound webhooks for partners: signed deliveries of domain events, with retries."""
