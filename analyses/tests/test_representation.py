"""The output serializers' shared fields and the history's database-built rows must say exactly
what DRF's own serializers say."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from analyses.models import Analysis
from analyses.serializers import AnalysisListItemSerializer, AnalysisSerializer, AnalysisVideoSerializer
from analyses.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db

ANALYSES = "/api/v1/analyses/"


def drf_representation(serializer_class, instance):
    """What plain DRF renders: a fresh instance's own fields, Serializer.to_representation."""
    return serializers.Serializer.to_representation(serializer_class(instance), instance)


KINDS = [
    {},
    {"status": Analysis.Status.PENDING, "score": None, "good_points": [], "improvements": [], "advice": ""},
    {"status": Analysis.Status.FAILED, "score": None, "error_code": "timeout", "error_message": "Too slow."},
    {"details": {"joints": {"left_elbow": 12.5}, "mirrored": True}, "short": {"advice": "Arms up"}},
    {"cached": True, "provider": "gemini", "model": "gemini-2.5-flash", "language": "en"},
]


@pytest.mark.parametrize("overrides", KINDS)
def test_the_fast_representation_matches_drfs_for_every_kind_of_analysis(overrides):
    analysis = AnalysisFactory(**overrides)
    analysis.refresh_from_db()
    for serializer_class in (AnalysisSerializer, AnalysisListItemSerializer):
        assert serializer_class(analysis).data == drf_representation(serializer_class, analysis)
    assert AnalysisVideoSerializer(analysis.video).data == drf_representation(AnalysisVideoSerializer, analysis.video)


def test_the_list_item_has_no_details_and_the_detail_has_them():
    analysis = AnalysisFactory(details={"joints": {}})
    assert "details" not in AnalysisListItemSerializer(analysis).data
    assert AnalysisSerializer(analysis).data["details"] == {"joints": {}}


def test_fields_are_built_once_per_class_and_shared_by_instances():
    a, b = AnalysisFactory(), AnalysisFactory()
    assert AnalysisSerializer.shared_fields() is AnalysisSerializer.shared_fields()
    assert AnalysisSerializer.shared_fields() is not AnalysisListItemSerializer.shared_fields()
    assert AnalysisSerializer(a).data["id"] == str(a.pk) and AnalysisSerializer(b).data["id"] == str(b.pk)


@pytest.mark.parametrize("query", ["", "?status=completed", "?limit=3&offset=2"])
def test_it_shows_each_history_row_as_the_list_item_serializer_does(auth_client, query):
    # Unfiltered pages on PostgreSQL come as the database's JSON text; the others through values().
    analyses = [AnalysisFactory(user=auth_client.user, **overrides) for overrides in KINDS]
    analyses.append(AnalysisFactory(user=auth_client.user, created_at=timezone.now().replace(microsecond=0)))
    by_id = {str(analysis.pk): analysis for analysis in analyses}
    rows = auth_client.get(ANALYSES + query).json()["results"]
    assert rows
    for row in rows:
        analysis = by_id[row["id"]]
        analysis.refresh_from_db()
        # Through JSON, as a client reads both (the renderer writes datetimes and UUIDs).
        assert row == json.loads(json.dumps(AnalysisListItemSerializer(analysis).data))


def count_queries(client, path):
    assert connection.features.supports_json_field  # probed once per connection (SQLite), not per request
    with CaptureQueriesContext(connection) as queries:
        body = client.get(path).json()
    counts = sum("COUNT(" in q["sql"] for q in queries.captured_queries)
    # The signed-in user, the page, and the count when one is run: no column is loaded late.
    assert len(queries.captured_queries) == 2 + counts
    return body, counts


def test_a_history_shorter_than_a_page_is_counted_without_a_count_query(auth_client):
    for _ in range(3):
        AnalysisFactory(user=auth_client.user)
    body, counts = count_queries(auth_client, ANALYSES)
    assert body["count"] == 3 and len(body["results"]) == 3 and counts == 0
    body, counts = count_queries(auth_client, ANALYSES + "?limit=2&offset=2")
    assert body["count"] == 3 and len(body["results"]) == 1 and counts == 0


def test_a_long_historys_count_is_remembered_until_a_new_analysis_arrives(auth_client):
    AnalysisFactory.create_batch(12, user=auth_client.user)
    body, counts = count_queries(auth_client, ANALYSES)
    assert (body["count"], counts) == (12, 1)
    body, counts = count_queries(auth_client, ANALYSES)
    assert (body["count"], counts) == (12, 0)
    newest = AnalysisFactory(user=auth_client.user)
    body, counts = count_queries(auth_client, ANALYSES)
    assert (body["count"], counts, body["results"][0]["id"]) == (13, 1, str(newest.pk))


def test_filtered_and_later_pages_are_always_counted(auth_client):
    AnalysisFactory.create_batch(12, user=auth_client.user, status=Analysis.Status.COMPLETED)
    AnalysisFactory(user=auth_client.user, status=Analysis.Status.FAILED, score=None)
    auth_client.get(ANALYSES)  # remembers the unfiltered count
    body, counts = count_queries(auth_client, ANALYSES + "?status=completed")
    assert (body["count"], counts) == (12, 1)
    body, counts = count_queries(auth_client, ANALYSES + "?offset=10")
    assert (body["count"], len(body["results"]), counts) == (13, 3, 0)
    body, counts = count_queries(auth_client, ANALYSES + "?offset=50")
    assert (body["count"], body["results"], counts) == (13, [], 1)


def test_someone_elses_remembered_count_is_not_mine(make_auth_client):
    me, other = make_auth_client(), make_auth_client()
    AnalysisFactory.create_batch(11, user=me.user)
    AnalysisFactory.create_batch(14, user=other.user)
    assert me.get(ANALYSES).json()["count"] == 11
    assert other.get(ANALYSES).json()["count"] == 14
    assert me.get(ANALYSES).json()["count"] == 11
