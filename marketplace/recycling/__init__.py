"""Take-back and recycling: handovers of devices not worth reselling to verified recyclers."""
