"""bench/gen_analyses.py writes rows with COPY, column by column: a new NOT NULL column without a
database default breaks it, and with it every 1M-row bench (issue 18's keep_frames did)."""

import pytest
from django.db import connection

from accounts.models import User
from analyses.models import Analysis, PracticeSession
from bench.gen_analyses import HEAVY_EMAIL, STAFF_EMAIL, generate

pytestmark = pytest.mark.services


def test_it_fills_the_current_schema_with_a_small_bench_dataset(transactional_db):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

    result = generate(url, users=3, analyses=30, heavy=10, days=5, videos=2)

    assert result["analyses"] == Analysis.objects.count() == 30
    assert Analysis.objects.filter(user__email=HEAVY_EMAIL).count() == 10
    assert User.objects.get(email=STAFF_EMAIL).is_staff
    assert PracticeSession.objects.count() == result["sessions"] > 0
    # The ORM reads back what COPY wrote, every column included.
    assert all(a.session_id and a.video_id for a in Analysis.objects.all())
