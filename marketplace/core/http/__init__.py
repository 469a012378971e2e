"""The HTTP layer: Api with the one error shape, Blueprint, auth hook, pagination, ETag,
idempotency, CORS, rate limits."""
