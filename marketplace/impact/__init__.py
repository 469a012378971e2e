"""Impact: organisations' procurement reports, public platform totals, signed carbon
statements and opt-in leaderboards (read side over trades, recycling and the ledger)."""
