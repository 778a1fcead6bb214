"""Leaderboard settings in the admin, and a video's board for staff with a way to hide a dancer."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts.models import User
from coaching import leaderboards, services
from coaching.models import LeaderboardProfile
from playlists.models import Video


@admin.register(LeaderboardProfile)
class LeaderboardProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "opt_in", "hidden", "hidden_at", "updated_at"]
    list_filter = ["opt_in", "hidden"]
    search_fields = ["display_name", "user__email", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["hidden_at", "updated_at"]
    actions = ["hide", "unhide"]

    @admin.action(description="Hide the selected dancers from every leaderboard")
    def hide(self, request, queryset):
        for profile in queryset.select_related("user"):
            services.leaderboard_dancer_hide(user=profile.user, hidden=True)

    @admin.action(description="Show the selected dancers on the leaderboards again")
    def unhide(self, request, queryset):
        for profile in queryset.select_related("user"):
            services.leaderboard_dancer_hide(user=profile.user, hidden=False)

    def save_model(self, request, obj, form, change):
        if "hidden" in form.changed_data:
            obj.hidden_at = timezone.now() if obj.hidden else None
        super().save_model(request, obj, form, change)
        services.leaderboard_dancers_changed()  # an edit here may change every board

    def get_urls(self):
        board = self.admin_site.admin_view(self.board_view)
        return [path("board/", board, name="coaching_leaderboard_board"), *super().get_urls()]

    def board_view(self, request):
        """GET ?video=ID&period=week|month|all shows the board; POST user + hidden hides or shows a dancer."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            user = get_object_or_404(User, pk=request.POST.get("user"))
            hidden = request.POST.get("hidden") == "1"
            services.leaderboard_dancer_hide(user=user, hidden=hidden)
            messages.success(request, f"{'Hidden' if hidden else 'Shown again'}: {user}.")
            query = f"?video={request.POST.get('video', '')}&period={request.POST.get('period', 'all')}"
            return redirect(reverse("admin:coaching_leaderboard_board") + query)
        period = request.GET.get("period", "all")
        period = period if period in leaderboards.PERIODS else "all"
        video = None
        video_id = request.GET.get("video", "")
        if video_id.isdigit():
            video = Video.objects.filter(pk=int(video_id)).first()
        board = leaderboards.staff_board(video_id=video.pk, period=period) if video else []
        context = {
            **self.admin_site.each_context(request),
            "title": "Leaderboard",
            "video": video,
            "video_id": video_id,
            "period": period,
            "periods": leaderboards.PERIODS,
            "board": board,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/leaderboard.html", context)
