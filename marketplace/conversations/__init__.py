"""Conversations between a listing's seller and a buyer, blocking, and abuse control."""
