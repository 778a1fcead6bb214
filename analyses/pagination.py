from django.core.cache import cache

from analyses.filters import AnalysisFilter
from config.pagination import LimitOffsetPagination

HISTORY_COUNT_TTL_SECONDS = 60


def history_is_filtered(query_params) -> bool:
    return any(name in query_params for name in AnalysisFilter.base_filters)


class HistoryPagination(LimitOffsetPagination):
    """The history's count, remembered for its unfiltered first page.

    A dancer's history grows to thousands of rows and its first page is what clients open most;
    counting them each time cost more than reading the page. The remembered count is keyed by the
    newest analysis on the page, so a new submission (always the newest) brings a fresh count at
    once. Deleting an older analysis, or one committed out of order, can leave the count off
    by that much for at most HISTORY_COUNT_TTL_SECONDS.
    """

    def page_count(self, queryset, page, view) -> int:
        if self.offset != 0 or history_is_filtered(self.request.query_params) or not page:
            return super().page_count(queryset, page, view)
        key = f"history-count:{self.request.user.pk}:{page[0]['id']}"
        count = cache.get(key)
        if count is None:
            count = super().page_count(queryset, page, view)
            cache.set(key, count, HISTORY_COUNT_TTL_SECONDS)
        return count
