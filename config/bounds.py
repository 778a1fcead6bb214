"""Bounds on integers taken from requests and commands, so that none overflows a database integer."""

# PostgreSQL's bigint and SQLite's INTEGER alike.
BIGINT_MAX = 2**63 - 1
