"""Exit 0 when PostgreSQL and Redis at the given URLs answer within a second or two."""

import sys


def main(database_url: str, redis_url: str) -> int:
    try:
        import psycopg
        import redis

        # Connect to the maintenance database: the test database is created by pytest-django.
        conninfo = psycopg.conninfo.make_conninfo(
            database_url.replace("postgres://", "postgresql://", 1), dbname="postgres", connect_timeout=2
        )
        with psycopg.connect(conninfo) as conn:
            conn.execute("SELECT 1")
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except Exception as exc:
        print(f"services check: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
