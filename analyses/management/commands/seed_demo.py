"""manage.py seed_demo: demo users, videos, reference tracks, playlists and weeks of analyses."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from analyses.analyzers import pose, synthetic
from analyses.analyzers.base import AnalyzerError, AnalyzerInput
from analyses.management.commands._common import progress_bar
from analyses.models import Analysis, PracticeSession
from analyses.stats import time_zone_get
from config.commands import OperatorCommand, int_between
from playlists import services as playlist_services
from playlists.models import Playlist, PlaylistItem, ReferencePoseTrack
from playlists.reference_tracks import ParsedTrack

DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo-dance-2025"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "demo-admin-2025"
DANCERS = 5  # more dancers, so the reports show several active users
TRACK_SECONDS, TRACK_FPS = 90.0, 30.0
JOINTS = (
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
)


@dataclass(frozen=True)
class DemoVideo:
    youtube_id: str
    title: str
    seed: int
    reference: bool


VIDEOS = (
    DemoVideo("DemoDance01", "Demo: K-pop basics (chorus)", 1, True),
    DemoVideo("DemoDance02", "Demo: Hip-hop groove drills", 2, True),
    DemoVideo("DemoDance03", "Demo: Jazz warm-up", 3, True),
    DemoVideo("DemoDance04", "Demo: Freestyle (no reference)", 4, False),
)
PLAYLISTS = (
    ("Warm-up routine", "Start every practice here.", True, ["DemoDance03", "DemoDance02"]),
    ("This week's goal", "The chorus until it is clean.", False, ["DemoDance01", "DemoDance04"]),
)
ERRORS = (
    ("pose_not_visible", "pose", "Too few limbs visible to score."),
    ("timeout", "gemini", "Gemini did not answer within 30 s."),
    ("rate_limited", "gemini", "Gemini answered 429 after 5 attempts."),
    ("blocked_by_safety", "gemini", "The request was blocked by the safety filters."),
)


class Command(OperatorCommand):
    help = (
        "Fill the database with demo data so the admin, its reports and GET /api/v1/stats/ show something "
        f"right after `make run`: a dancer ({DEMO_EMAIL}), a staff superuser ({ADMIN_EMAIL}), "
        f"{DANCERS} more dancers, {len(VIDEOS)} videos (three with a reference pose track), playlists, and "
        "a few weeks of practice sessions and analyses scored by the real pose analyzer on synthetic poses "
        "(with some failures, cache hits and Gemini-priced rows for the reports). Idempotent: what exists is "
        "kept, and a dancer who already has analyses gets no more (use --reset to rebuild them)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--weeks", type=int_between(1, 52), default=3, help="Weeks of history up to today (default 3)."
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7): same seed, same data.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo dancers' sessions and analyses first."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be created.")

    def handle(self, *args, **opts):
        started = time.monotonic()
        rng = random.Random(opts["seed"])  # noqa: S311 - demo data, not security
        days = opts["weeks"] * 7
        emails = [DEMO_EMAIL] + [f"demo.dancer{i}@example.com" for i in range(1, DANCERS + 1)]
        if opts["dry_run"]:
            self._dry_run(emails, days, reset=opts["reset"])
            return
        with transaction.atomic():
            admin_user, admin_created = self._user(ADMIN_EMAIL, "admin", ADMIN_PASSWORD, staff=True)
            users = [self._user(DEMO_EMAIL, "demo", DEMO_PASSWORD, language="en")[0]]
            users += [self._user(email, f"demo_dancer{i}", None)[0] for i, email in enumerate(emails[1:], start=1)]
            videos, tracks_created = self._videos(admin_user)
            playlists_created = self._playlists(users[0], videos)
            if opts["reset"]:
                Analysis.objects.filter(user__in=users).delete()
                PracticeSession.objects.filter(user__in=users).delete()
        to_seed = [u for u in users if not Analysis.objects.filter(user=u).exists()]
        plans = [self._plan(u, rng, days, main=(u.email == DEMO_EMAIL)) for u in to_seed]
        references = self._references(videos)
        made = 0
        with progress_bar(sum(len(p) for p in plans), "seed_demo analyses") as bar:
            for user, plan in zip(to_seed, plans, strict=True):
                made += self._analyses(user, plan, videos, references, rng, bar)
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))
        self.stdout.write(
            f"  users: {len(users) + 1} ({len(to_seed)} given analyses), videos: {len(videos)}, "
            f"reference tracks created: {tracks_created}, playlists created: {playlists_created}, "
            f"analyses created: {made}"
        )
        self.stdout.write(f"  Dancer (API, stats):      {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"  Staff (admin, reports):   {ADMIN_EMAIL} / {ADMIN_PASSWORD}"
            + ("" if admin_created else "  (existing user: password unchanged)")
        )
        self.stdout.write("  Admin: /admin/  ·  Reports: /admin/reports/  ·  Stats: GET /api/v1/stats/")

    def _dry_run(self, emails, days: int, *, reset: bool) -> None:
        existing = set(User.objects.filter(email__in=[*emails, ADMIN_EMAIL]).values_list("email", flat=True))
        seeded = set(User.objects.filter(email__in=emails, analyses__isnull=False).values_list("email", flat=True))
        self.stdout.write("Dry run: nothing was changed. Would ensure:")
        for email in [ADMIN_EMAIL, *emails]:
            state = "exists" if email in existing else "create"
            more = ""
            if email != ADMIN_EMAIL:
                more = ", keep its analyses" if email in seeded and not reset else f", {days} days of analyses"
            self.stdout.write(f"  user {email}: {state}{more}")
        self.stdout.write(
            f"  {len(VIDEOS)} videos, {sum(v.reference for v in VIDEOS)} reference tracks, {len(PLAYLISTS)} playlists"
        )

    # --- pieces -------------------------------------------------------------------------

    def _user(self, email, username, password, *, staff=False, language="ja"):
        user = User.objects.filter(email=email).first()
        if user is not None:
            return user, False
        user = User(email=email, username=username, language=language, is_staff=staff, is_superuser=staff)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user, True

    def _videos(self, admin_user) -> tuple[dict, int]:
        """The demo videos by YouTube id, and how many reference tracks were created for them."""
        videos, tracks_created = {}, 0
        for v in VIDEOS:
            video, _ = playlist_services.video_get_or_create(
                youtube_url=f"https://www.youtube.com/watch?v={v.youtube_id}", title=v.title
            )
            videos[v.youtube_id] = video
            if v.reference and not ReferencePoseTrack.objects.filter(video=video).exists():
                frames = synthetic.choreography_track(fps=TRACK_FPS, seconds=TRACK_SECONDS, seed=v.seed)
                playlist_services.reference_track_import(
                    video=video,
                    data=ParsedTrack(fps=TRACK_FPS, frames=frames),
                    uploaded_by=admin_user,
                    filename=f"{v.youtube_id}.json",
                )
                tracks_created += 1
        return videos, tracks_created

    @staticmethod
    def _references(videos) -> dict:
        references = {}
        for v in VIDEOS:
            track = ReferencePoseTrack.objects.filter(video=videos[v.youtube_id]).first()
            if track is not None:
                frames = np.frombuffer(bytes(track.data), dtype="<f4").reshape(track.frame_count, 33, 4)
                references[v.youtube_id] = pose.PoseReference(frames, fps=track.fps)
        return references

    def _playlists(self, owner, videos) -> int:
        created = 0
        for name, description, public, ids in PLAYLISTS:
            playlist = Playlist.objects.filter(owner=owner, name=name).first()
            if playlist is None:
                playlist = playlist_services.playlist_create(
                    owner=owner, name=name, description=description, is_public=public
                )
                created += 1
            present = set(PlaylistItem.objects.filter(playlist=playlist).values_list("video__youtube_id", flat=True))
            for youtube_id in ids:
                if youtube_id not in present:
                    playlist_services.playlist_item_add(playlist=playlist, video=videos[youtube_id])
        return created

    def _plan(self, user, rng: random.Random, days: int, *, main: bool) -> list[tuple[int, int]]:
        """(days ago, analyses that day) for the days this dancer practised."""
        plan = []
        for ago in range(days - 1, -1, -1):
            practised = rng.random() < (0.85 if main else 0.45)
            if main and ago < 4:
                practised = True  # a live streak for the demo dancer
            if practised:
                plan.append((ago, rng.randint(6, 14) if main else rng.randint(2, 8)))
        return plan

    def _analyses(self, user, plan, videos, references, rng: random.Random, bar) -> int:
        tz = time_zone_get(None)
        today = timezone.now().astimezone(tz).date()
        now = timezone.now()
        sessions, analyses = [], []
        skill = rng.uniform(24.0, 32.0)  # degrees of noise on the dancer's joint angles
        frames_left = 30 if user.email == DEMO_EMAIL else 0
        storage = Analysis._meta.get_field("frame").storage
        span = max(1, plan[0][0]) if plan else 1
        for ago, count in plan:
            day = today - timedelta(days=ago)
            noise = max(8.0, skill * (0.6 + 0.4 * ago / span))  # improves over time
            start = datetime.combine(day, dtime(hour=rng.randint(18, 21), minute=rng.randint(0, 59)), tzinfo=tz)
            start = min(start, now - timedelta(minutes=count * 2))
            demo_video = rng.choice(VIDEOS[:3] if rng.random() < 0.85 else VIDEOS)
            video = videos[demo_video.youtube_id]
            session = PracticeSession(user=user, video=video, started_at=start)
            sessions.append(session)
            when = start
            for _ in range(count):
                when = when + timedelta(seconds=rng.randint(20, 90))
                if when > now:
                    when = now - timedelta(seconds=rng.randint(1, 600))
                analyses.append(self._analysis(user, session, demo_video, when, noise, references, rng))
                bar.update(1)
            session.ended_at = min(when + timedelta(minutes=1), now)
        # Frames for the demo dancer's latest analyses, so the admin shows the image.
        for analysis in sorted(analyses, key=lambda a: a.created_at, reverse=True):
            if frames_left <= 0:
                break
            if analysis.keypoints:
                data = synthetic.render_pose_jpeg(analysis.keypoints, width=160, height=120)
                name = storage.save(f"frames/demo/{analysis.id}.jpg", ContentFile(data))
                analysis.frame.name = name
                analysis.frame_mime = "image/jpeg"
                frames_left -= 1
        with transaction.atomic():
            PracticeSession.objects.bulk_create(sessions, batch_size=500)
            Analysis.objects.bulk_create(analyses, batch_size=500)
        return len(analyses)

    @staticmethod
    def _dancer_keypoints(demo_video, timestamp: float, noise: float, rng: random.Random) -> list[dict]:
        """The choreography's pose at the moment, a little late or early, with the dancer's noise."""
        late = rng.gauss(0.0, 0.15)
        params = synthetic.choreography_params(timestamp - late, demo_video.seed)
        for key in JOINTS:
            params[key] += rng.gauss(0.0, noise)
        return synthetic.keypoints_to_dicts(synthetic.pose_from_angles(**params))

    def _analysis(self, user, session, demo_video, when, noise, references, rng: random.Random) -> Analysis:
        timestamp = round(rng.uniform(2.0, TRACK_SECONDS - 2.0), 1)
        keypoints = self._dancer_keypoints(demo_video, timestamp, noise, rng)
        language = user.language or "ja"
        analysis = Analysis(
            user=user,
            session=session,
            video=session.video,
            timestamp=timestamp,
            language=language,
            keypoints=keypoints,
            created_at=when,
            started_at=when,
            attempts=1,
            requested_provider="auto",
            frame_sha256=uuid.uuid4().hex + uuid.uuid4().hex,
        )
        started = time.perf_counter()
        roll = rng.random()
        if roll < 0.06:
            return self._failed(analysis, when, rng)
        inp = AnalyzerInput(
            frame=None,
            frame_mime=None,
            keypoints=keypoints,
            youtube_id=demo_video.youtube_id,
            timestamp=timestamp,
            language=language,
        )
        try:
            result = pose.analyze(
                inp,
                tolerance=settings.POSE_TOLERANCE_SECONDS,
                visibility_threshold=settings.POSE_VISIBILITY_THRESHOLD,
                pose_reference=references.get(demo_video.youtube_id),
            )
        except AnalyzerError as exc:
            analysis.status, analysis.provider = Analysis.Status.FAILED, "pose"
            analysis.error_code, analysis.error_message = exc.code, exc.message
            analysis.completed_at = when
            return analysis
        latency = max(1, round((time.perf_counter() - started) * 1000))
        return self._scored(analysis, result, when, latency, gemini_priced=roll < 0.26, rng=rng)

    @staticmethod
    def _failed(analysis: Analysis, when, rng: random.Random) -> Analysis:
        code, provider, message = rng.choice(ERRORS)
        analysis.status = Analysis.Status.FAILED
        analysis.provider = provider
        analysis.error_code, analysis.error_message = code, message
        analysis.completed_at = when + timedelta(seconds=rng.uniform(0.5, 30.0))
        if provider == "gemini":
            analysis.model = settings.GEMINI_MODEL
            analysis.input_tokens = rng.randint(0, 1500)
        return analysis

    @staticmethod
    def _scored(analysis: Analysis, result, when, latency: int, *, gemini_priced: bool, rng: random.Random) -> Analysis:
        analysis.status = Analysis.Status.COMPLETED
        analysis.score = int(result.score)
        analysis.good_points, analysis.improvements = result.good_points, result.improvements
        analysis.advice, analysis.short, analysis.details = result.advice, result.short, result.details
        analysis.provider, analysis.model = "pose", result.model
        if gemini_priced:
            # Priced like a Gemini answer grounded on these pose figures (no call is made).
            analysis.provider, analysis.model = "gemini", settings.GEMINI_MODEL
            analysis.details = {
                "prompt_version": "v1",
                "reference": "description",
                "repaired": False,
                "language": analysis.language,
                "used_pose_details": True,
                "demo": True,
            }
            analysis.input_tokens, analysis.output_tokens = rng.randint(1400, 2600), rng.randint(180, 420)
            latency = rng.randint(1200, 4500)
        if rng.random() < 0.1:
            analysis.cached, latency = True, 0
            analysis.input_tokens = analysis.output_tokens = 0
        analysis.latency_ms = latency
        analysis.completed_at = when + timedelta(milliseconds=latency)
        return analysis
