from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from analyses.models import Analysis
from playlists.youtube import video_ref_parse


class _UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 allows UTC offsets up to ±23:59, PostgreSQL only ±15:59: compare in UTC."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+16:00 is before year 1 in UTC
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField


class VideoRefField(forms.CharField):
    """A video's numeric id or its YouTube id (playlists.youtube.video_ref_parse)."""

    default_error_messages = {"invalid": "Name a video by its numeric id or its 11-character YouTube id."}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return video_ref_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class VideoRefFilter(django_filters.Filter):
    field_class = VideoRefField


class AnalysisFilter(django_filters.FilterSet):
    video = VideoRefFilter(method="filter_video", help_text="Video id or 11-character YouTube id.")
    session = django_filters.UUIDFilter(field_name="session_id")
    status = django_filters.ChoiceFilter(choices=Analysis.Status.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Analysis
        fields = ["video", "session", "status", "created_after", "created_before"]

    def filter_video(self, queryset, name, value):
        if isinstance(value, int):
            return queryset.filter(video_id=value)
        return queryset.filter(video__youtube_id=value)
