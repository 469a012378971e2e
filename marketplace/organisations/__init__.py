"""Organisations: companies, public bodies, schools, NGOs and recyclers, with members."""
