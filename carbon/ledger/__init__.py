"""Double-entry carbon ledger: personal carbon accounts credited once per completed trade.

Flask-side package (unlike ``carbon.estimator``): models, the outbox handlers that post journal
transactions, read services for the API, ``flask carbon verify-ledger``.
"""
