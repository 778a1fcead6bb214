"""A dancer's concurrent long-polls are bounded; the bound frees itself as polls end."""

import pytest

from analyses.api import WaitSlot
from analyses.models import Analysis
from analyses.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db

ANALYSES = "/api/v1/analyses/"


@pytest.fixture
def pending(auth_client):
    return AnalysisFactory(user=auth_client.user, status=Analysis.Status.PENDING, score=None)


def test_it_refuses_a_wait_beyond_the_callers_bound_with_a_429(auth_client, pending, settings):
    settings.ANALYSIS_WAITS_PER_USER = 2
    with WaitSlot(auth_client.user.pk), WaitSlot(auth_client.user.pk):  # two polls already waiting
        r = auth_client.get(f"{ANALYSES}{pending.pk}/?wait=0.2")
    assert r.status_code == 429
    error = r.json()["errors"][0]
    assert error["code"] == "throttled" and "awaited at once" in error["detail"]
    assert "Retry-After" in r.headers


def test_it_frees_the_slot_when_a_wait_ends(auth_client, pending, settings):
    settings.ANALYSIS_WAITS_PER_USER = 1
    for _ in range(3):
        assert auth_client.get(f"{ANALYSES}{pending.pk}/?wait=0.1").status_code == 200


def test_it_counts_each_dancer_apart(make_auth_client, settings):
    settings.ANALYSIS_WAITS_PER_USER = 1
    me, other = make_auth_client(), make_auth_client()
    theirs = AnalysisFactory(user=other.user, status=Analysis.Status.PENDING, score=None)
    with WaitSlot(me.user.pk):
        assert other.get(f"{ANALYSES}{theirs.pk}/?wait=0.1").status_code == 200


def test_it_never_counts_a_read_without_wait_or_of_a_finished_analysis(auth_client, pending, settings):
    settings.ANALYSIS_WAITS_PER_USER = 1
    done = AnalysisFactory(user=auth_client.user)
    with WaitSlot(auth_client.user.pk):
        assert auth_client.get(f"{ANALYSES}{pending.pk}/").status_code == 200
        assert auth_client.get(f"{ANALYSES}{done.pk}/?wait=5").status_code == 200
