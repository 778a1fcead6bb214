"""Services half: processes share one provider key set through Redis, and race safely on a first sign-in."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import ExternalIdentity, User
from bench.fake_idp import DISCOVERY_PATH, JWKS_PATH

ROOT = Path(__file__).resolve().parents[2]

# A second Django process on the same database and Redis, calling GET auth/me/ N times with a token.
CLIENT_PROCESS = """
import json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
token, n = sys.argv[1], int(sys.argv[2])
print(json.dumps([client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Bearer " + token).status_code for _ in range(n)]))
"""


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_it_fetches_the_jwks_once_for_many_requests_across_processes(idp):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "RATELIMIT_ENABLE": "false",
        **idp.env(),
    }
    token = idp.token("user_2abc", lifetime=600, preferred_username="mai")
    processes = [
        subprocess.Popen([sys.executable, "-c", CLIENT_PROCESS, token, "25"], env=env, cwd=ROOT, stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    answers = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    assert answers == [[200] * 25] * 3
    # Three cold processes, 75 requests: one discovery and one key set fetch in all.
    assert (idp.hits[DISCOVERY_PATH], idp.hits[JWKS_PATH]) == (1, 1)
    # They raced on the first sign-in too: one user, one identity.
    assert User.objects.count() == 1 and ExternalIdentity.objects.count() == 1
