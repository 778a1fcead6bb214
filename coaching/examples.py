"""OpenAPI examples of the coaching endpoints (also shown in docs/coaching.md)."""

from drf_spectacular.utils import OpenApiExample

REPORT = {
    "session_id": "6f1c2a8e-3b7d-4c1e-9a51-0d2e8f4b7c11",
    "video_id": 12,
    "analyses": 5,
    "average_score": 70.6,
    "timeline": [
        {"analysis_id": "0b8e4f1a-5c2d-4e7b-9a10-3f6d2c8b1e01", "timestamp": 8.0, "score": 91, "weakest_part": "head"},
        {
            "analysis_id": "0b8e4f1a-5c2d-4e7b-9a10-3f6d2c8b1e02",
            "timestamp": 10.0,
            "score": 58,
            "weakest_part": "left_arm",
        },
        {
            "analysis_id": "0b8e4f1a-5c2d-4e7b-9a10-3f6d2c8b1e03",
            "timestamp": 12.0,
            "score": 55,
            "weakest_part": "left_arm",
        },
        {
            "analysis_id": "0b8e4f1a-5c2d-4e7b-9a10-3f6d2c8b1e04",
            "timestamp": 14.0,
            "score": 61,
            "weakest_part": "left_arm",
        },
        {
            "analysis_id": "0b8e4f1a-5c2d-4e7b-9a10-3f6d2c8b1e05",
            "timestamp": 16.0,
            "score": 88,
            "weakest_part": "right_leg",
        },
    ],
    "worst_moments": [
        {
            "start": 10.0,
            "end": 14.0,
            "average_score": 58.0,
            "analyses": 3,
            "body_parts": [{"part": "left_arm", "average_score": 41.7}, {"part": "torso", "average_score": 72.0}],
        }
    ],
    "body_parts": {"left_arm": 68.2, "right_arm": 88.0, "left_leg": 85.1, "right_leg": 83.4, "torso": 80.9},
    "previous": {"session_id": "2d0a9c51-7e44-4f0b-8d1a-5c3b9e6f2a70", "average_score": 64.6, "delta": 6.0},
    "summary": "Average 71 over 5 scored moves, +6 since last time. Loop 0:10–0:14 first: the left arm lost the most "
    "points there.",
    "language": "en",
}

LEADERBOARD = {
    "period": "week",
    "period_start": "2026-11-29T15:00:00Z",
    "results": [
        {"rank": 1, "display_name": "Aya", "score": 92.4, "sessions": 3},
        {"rank": 2, "display_name": "kenta_dance", "score": 88.0, "sessions": 1},
        {"rank": 2, "display_name": "Mio", "score": 88.0, "sessions": 2},
        {"rank": 4, "display_name": "Sora", "score": 79.5, "sessions": 4},
    ],
    "me": {"rank": 4, "score": 80.2, "listed": False},
}

PERSONAL_BESTS = [
    {
        "video": {"id": 12, "youtube_id": "dQw4w9WgXcQ", "title": "Beginner hip-hop routine"},
        "score": 84.6,
        "session_id": "6f1c2a8e-3b7d-4c1e-9a51-0d2e8f4b7c11",
        "achieved_at": "2026-12-05T11:42:08Z",
    }
]

STATS = {
    "time_zone": "Asia/Tokyo",
    "today": "2026-12-06",
    "total_analyses": 412,
    "completed_analyses": 398,
    "failed_analyses": 14,
    "total_sessions": 23,
    "practice_days": 17,
    "current_streak": 4,
    "longest_streak": 6,
    "average_score": 74.2,
    "best_score": 97,
    "last_7_days": {
        "start": "2026-11-30",
        "end": "2026-12-06",
        "analyses": 96,
        "practice_days": 5,
        "average_score": 78.1,
    },
    "previous_7_days": {
        "start": "2026-11-23",
        "end": "2026-11-29",
        "analyses": 71,
        "practice_days": 3,
        "average_score": 73.5,
    },
    "comparison": {"analyses_change": 25, "practice_days_change": 2, "average_score_change": 4.6},
    "daily": [{"date": "2026-12-06", "analyses": 22, "completed": 21, "average_score": 80.3, "best_score": 95}],
    "videos": [
        {
            "video_id": 12,
            "youtube_id": "dQw4w9WgXcQ",
            "title": "Beginner hip-hop routine",
            "analyses": 140,
            "best_score": 97,
            "latest_score": 84,
            "average_score": 76.9,
            "last_practiced_at": "2026-12-06T11:42:08Z",
        }
    ],
    "weakest_body_parts": [{"part": "left_arm", "average_score": 68.2, "analyses": 120}],
    "personal_bests": PERSONAL_BESTS,
}

stats_examples = [OpenApiExample("A dancer's progress (daily cut to one day)", value=STATS, response_only=True)]
report_examples = [OpenApiExample("A session with one stretch to practise", value=REPORT, response_only=True)]
leaderboard_examples = [OpenApiExample("This week's board, caller not listed", value=LEADERBOARD, response_only=True)]
ME_LEADERBOARD_EXAMPLE = OpenApiExample(
    "Join the leaderboards", value={"leaderboard_opt_in": True, "display_name": "Aya"}, request_only=True
)
