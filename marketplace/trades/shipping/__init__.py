"""Shipping of a trade: the known carriers, their tracking adapters, the shipment and its
tracking events, and the job that polls parcels in transit (issue 15)."""
