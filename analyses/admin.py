import base64

from django.contrib import admin, messages
from django.utils.html import format_html

from analyses.admin_large_tables import EstimatedCountPaginator, RecentErrorCodeFilter, indexed_dates
from analyses.models import Analysis, AnalysisRevision, PracticeSession
from analyses.services.maintenance import analysis_reanalyze
from analyses.services.trials import reanalyze_preflight
from config.storage import storage_is_local, storage_link


class AnalysisRevisionInline(admin.TabularInline):
    """Every run of the analysis, newest first: the current one is what the dancer sees."""

    model = AnalysisRevision
    extra = 0
    can_delete = False
    show_change_link = False
    fields = readonly_fields = [
        "created_at",
        "trial",
        "is_current",
        "status",
        "provider",
        "model",
        "analyzer_version",
        "score",
        "error_code",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "completed_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PracticeSession)
class PracticeSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "video", "started_at", "ended_at"]
    list_filter = ["started_at"]
    search_fields = ["id", "user__email", "video__youtube_id", "video__title"]
    date_hierarchy = "started_at"
    raw_id_fields = ["user", "video"]
    list_select_related = ["user", "video"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return indexed_dates(super().get_queryset(request))


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "video",
        "timestamp",
        "status",
        "score",
        "provider",
        "cached",
        "error_code",
        "latency_ms",
        "created_at",
    ]
    list_filter = ["status", "provider", "cached", RecentErrorCodeFilter, "created_at"]
    search_fields = ["id", "user__email", "video__youtube_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user", "session", "video"]
    list_select_related = ["user", "video"]
    show_full_result_count = False
    actions = ["reanalyze"]
    inlines = [AnalysisRevisionInline]
    # A million rows: no full count, no DISTINCT dates over the table (see admin_large_tables).
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return indexed_dates(super().get_queryset(request))

    readonly_fields = [
        "frame_preview",
        "id",
        "created_at",
        "started_at",
        "completed_at",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "attempts",
        "fingerprint",
        "frame_sha256",
        "lease_until",
    ]
    fieldsets = [
        (None, {"fields": ["id", "user", "session", "video", "timestamp", "language", "status"]}),
        ("Result", {"fields": ["score", "good_points", "improvements", "advice", "short", "details", "cached"]}),
        ("Error", {"fields": ["error_code", "error_message"]}),
        (
            "Analyzer",
            {
                "fields": [
                    "requested_provider",
                    "provider",
                    "model",
                    "input_tokens",
                    "output_tokens",
                    "latency_ms",
                    "attempts",
                    "lease_until",
                ]
            },
        ),
        ("Frame", {"fields": ["frame_preview", "frame", "frame_sha256", "frame_mime", "fingerprint", "keypoints"]}),
        ("Times", {"fields": ["created_at", "started_at", "completed_at"]}),
    ]

    @admin.display(description="frame")
    def frame_preview(self, obj):
        if not obj.frame:
            return "—"
        if not storage_is_local(obj.frame.storage):
            # Object storage: a presigned link valid for AWS_QUERYSTRING_EXPIRE seconds, never a public object.
            return format_html('<img src="{}" style="max-width:480px;max-height:360px">', storage_link(obj.frame))
        # Local disk: inline, so frames need no public media URL.
        try:
            with obj.frame.open("rb") as handle:
                data = handle.read()
        except OSError:
            return "(file missing: purged or moved)"
        encoded = base64.b64encode(data).decode()
        return format_html(
            '<img src="data:{};base64,{}" style="max-width:480px;max-height:360px">',
            obj.frame_mime or "image/jpeg",
            encoded,
        )

    @admin.action(description="Re-analyze the selected analyses")
    def reanalyze(self, request, queryset):
        preflight = reanalyze_preflight(queryset=queryset)
        if not preflight.ok:
            self.message_user(request, " ".join([*preflight.problems, "Nothing was queued."]), messages.ERROR)
            return
        count = sum(analysis_reanalyze(analysis=a) for a in queryset)
        self.message_user(
            request,
            f"{count} analyses queued again; each keeps its result until a new one is stored "
            "(running ones were left alone).",
            messages.SUCCESS,
        )
