from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils.html import format_html

from config.errors import ApplicationError
from playlists import services
from playlists.models import Playlist, PlaylistItem, ReferencePoseTrack, Video
from playlists.reference_tracks import InvalidReferenceTrack
from playlists.youtube import InvalidYouTubeURL, is_youtube_id, youtube_id_from_url

# --- Videos ------------------------------------------------------------------------------


class VideoAdminForm(forms.ModelForm):
    youtube_id = forms.CharField(label="YouTube id or URL", max_length=2048)

    class Meta:
        model = Video
        fields = ["youtube_id", "title", "duration"]

    def clean_youtube_id(self):
        value = self.cleaned_data["youtube_id"].strip()
        if is_youtube_id(value):
            return value
        try:
            return youtube_id_from_url(value)
        except InvalidYouTubeURL as exc:
            raise forms.ValidationError(str(exc)) from exc


class HasReferenceFilter(admin.SimpleListFilter):
    title = "reference track"
    parameter_name = "has_reference"

    def lookups(self, request, model_admin):
        return [("yes", "Has a reference"), ("no", "No reference")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(has_reference=self.value() == "yes")
        return queryset


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    form = VideoAdminForm
    list_display = ["youtube_id", "title", "duration", "has_reference", "created_at", "watch_link"]
    list_filter = [HasReferenceFilter]
    search_fields = ["=youtube_id", "title"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        has_reference = Exists(ReferencePoseTrack.objects.filter(video_id=OuterRef("pk")))
        return super().get_queryset(request).annotate(has_reference=has_reference)

    @admin.display(boolean=True, ordering="has_reference", description="reference")
    def has_reference(self, obj):
        return obj.has_reference

    @admin.display(description="watch")
    def watch_link(self, obj):
        return format_html('<a href="{}" target="_blank" rel="noopener">YouTube</a>', obj.url)


# --- Playlists ------------------------------------------------------------------------------


class PlaylistItemInlineFormSet(forms.BaseInlineFormSet):
    """Positions are not edited here: new rows are appended, deleted rows close the gap.

    Saving goes through the services (see PlaylistAdmin.save_formset), which keep the
    positions contiguous and the limits enforced."""

    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if len(kept) > settings.PLAYLIST_MAX_ITEMS:
            raise forms.ValidationError(f"A playlist holds at most {settings.PLAYLIST_MAX_ITEMS} videos.")


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    formset = PlaylistItemInlineFormSet
    fields = ["position", "video", "added_at"]
    readonly_fields = ["position", "added_at"]
    raw_id_fields = ["video"]
    ordering = ["position"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("video")


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_public", "item_count", "created_at", "updated_at"]
    list_filter = ["is_public"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__email", "owner__username"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    ordering = ["-updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    inlines = [PlaylistItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(ordering="item_count", description="videos")
    def item_count(self, obj):
        return obj.item_count

    def save_formset(self, request, form, formset, change):
        if formset.model is not PlaylistItem:
            return super().save_formset(request, form, formset, change)
        playlist = form.instance
        try:
            with transaction.atomic():
                for item_form in formset.deleted_forms:
                    if item_form.instance.pk:
                        services.playlist_item_remove(playlist=playlist, video=item_form.instance.video)
                for item_form in formset.extra_forms:
                    if item_form.has_changed() and not item_form.cleaned_data.get("DELETE"):
                        services.playlist_item_add(playlist=playlist, video=item_form.cleaned_data["video"])
                for item_form in formset.initial_forms:
                    if item_form in formset.deleted_forms or not item_form.has_changed():
                        continue
                    # The video of an existing row was swapped: same position, other video.
                    old = PlaylistItem.objects.get(pk=item_form.instance.pk)
                    position = old.position
                    services.playlist_item_remove(playlist=playlist, video=old.video)
                    services.playlist_item_add(
                        playlist=playlist, video=item_form.cleaned_data["video"], position=position
                    )
        except ApplicationError as exc:
            self.message_user(request, f"Videos not changed: {exc.message}", level=messages.ERROR)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Reference pose tracks --------------------------------------------------------------------


class ReferenceTrackUploadForm(forms.ModelForm):
    """Upload a JSON track for a video; the binary frames are never shown."""

    file = forms.FileField(
        help_text=(
            'JSON: {"fps": 30, "frames": [[[x, y, z, visibility] x 33], ...]} or '
            '[{"t": seconds, "landmarks": [{"x", "y", "z", "visibility"} x 33]}, ...]. '
            "It replaces the video's current track."
        )
    )

    class Meta:
        model = ReferencePoseTrack
        fields = ["video"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # on a change page the file is optional: no file, no change
            self.fields["file"].required = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is None:
            return upload
        limit = settings.REFERENCE_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit:,} bytes.")
        try:
            self.parsed = services.reference_track_parse(data=upload.read())
        except InvalidReferenceTrack as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from exc
        return upload

    def validate_unique(self):
        # A video that already has a track is fine: the upload replaces it.
        pass


@admin.register(ReferencePoseTrack)
class ReferencePoseTrackAdmin(admin.ModelAdmin):
    form = ReferenceTrackUploadForm
    list_display = ["video", "fps", "frame_count", "duration", "source_filename", "uploaded_by", "updated_at"]
    list_select_related = ["video", "uploaded_by"]
    search_fields = ["=video__youtube_id", "video__title", "source_filename"]
    autocomplete_fields = ["video"]
    date_hierarchy = "updated_at"
    ordering = ["-updated_at"]
    show_full_result_count = False
    readonly_fields = ["fps", "frame_count", "duration", "sha256", "source_filename", "uploaded_by", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["video", "file"]
        return ["video", "file", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return ["video", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("file")
        if upload is None:
            return
        video = obj.video if change else form.cleaned_data["video"]
        track, _ = services.reference_track_import(
            video=video, data=form.parsed, uploaded_by=request.user, filename=upload.name
        )
        # The admin goes on with `obj` (messages, log, redirect): make it the stored row.
        obj.pk = track.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass
