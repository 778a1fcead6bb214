"""The development SECRET_KEY: random, made once per checkout and kept in a file git ignores.

A key published in the repository would let anyone forge tokens for a dev instance left
reachable. Used by settings only, and only with DEBUG on and no SECRET_KEY set.
"""

import os
import secrets
import time
import warnings
from pathlib import Path


def dev_secret_key(path: Path) -> str:
    """The key kept at `path`, made there (mode 0600) on first use."""
    for _ in range(100):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            try:
                _create(path)
            except FileExistsError:
                pass  # another process made it first: read theirs
            except OSError:
                break
            continue
        except OSError:
            break
        if key:
            return key
        time.sleep(0.01)  # another process is still writing it
    # A read-only checkout: a key for this process only (sessions and tokens end with it).
    warnings.warn(f"cannot keep a development SECRET_KEY in {path}; using one for this process only", stacklevel=2)
    return secrets.token_urlsafe(64)


def _create(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(64) + "\n")
