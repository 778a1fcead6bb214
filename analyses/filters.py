import django_filters

from analyses.models import Analysis


class AnalysisFilter(django_filters.FilterSet):
    video = django_filters.CharFilter(method="filter_video", help_text="Video id or 11-character YouTube id.")
    session = django_filters.UUIDFilter(field_name="session_id")
    status = django_filters.ChoiceFilter(choices=Analysis.Status.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Analysis
        fields = ["video", "session", "status", "created_after", "created_before"]

    def filter_video(self, queryset, name, value):
        if value.isdigit():
            return queryset.filter(video_id=int(value))
        return queryset.filter(video__youtube_id=value)
