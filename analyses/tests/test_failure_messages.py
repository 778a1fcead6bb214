"""Dancers read a plain sentence for a failure; the analyzer's detail stays in the log and the row."""

import logging

import pytest

from analyses import analyzing
from analyses.analyzers.base import PermanentAnalyzerError
from analyses.models import Analysis
from analyses.tests.factories import AnalysisFactory, submission

pytestmark = pytest.mark.django_db(transaction=True)

TRANSPORT_ERROR = "gemini_unavailable: ConnectError: [Errno -2] Name or service not known"


@pytest.mark.parametrize(
    "language, sentence",
    [
        ("en", "The AI coach could not be reached. Please try again in a moment."),
        ("ja", "AIコーチに接続できませんでした。少し待ってからもう一度お試しください。"),
    ],
)
def test_it_shows_a_transport_failure_as_a_plain_sentence_in_the_dancers_language(auth_client, language, sentence):
    analysis = AnalysisFactory(
        user=auth_client.user,
        status=Analysis.Status.FAILED,
        score=None,
        language=language,
        error_code="gemini_unavailable",
        error_message=TRANSPORT_ERROR,
    )
    detail = auth_client.get(f"/api/v1/analyses/{analysis.pk}/")
    history = auth_client.get("/api/v1/analyses/")
    assert detail.json()["error"] == {"code": "gemini_unavailable", "message": sentence}
    assert history.json()["results"][0]["error"]["message"] == sentence
    assert b"ConnectError" not in detail.content + history.content


def test_it_answers_an_unknown_code_with_a_general_sentence(auth_client):
    analysis = AnalysisFactory(
        user=auth_client.user, status=Analysis.Status.FAILED, score=None, language="en", error_code="something_new"
    )
    error = auth_client.get(f"/api/v1/analyses/{analysis.pk}/").json()["error"]
    assert error == {"code": "something_new", "message": "The analysis could not be completed."}


def test_it_keeps_the_analyzers_detail_in_the_log_and_the_stored_row(auth_client, monkeypatch, caplog):
    def failing(*, analysis):
        raise PermanentAnalyzerError("gemini_bad_request", "gemini_bad_request: HTTP 400 upstream said no")

    monkeypatch.setattr(analyzing, "analyze", failing)
    caplog.set_level(logging.INFO, logger="analyses.services")
    response = auth_client.post("/api/v1/analyses/", submission(language="en"), format="json")
    assert response.json()["error"]["message"] == "The AI coach could not analyse this frame."
    assert "HTTP 400 upstream said no" in caplog.text
    assert Analysis.objects.get().error_message == "gemini_bad_request: HTTP 400 upstream said no"
