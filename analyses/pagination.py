from django.core.cache import cache

from config.pagination import LimitOffsetPagination

HISTORY_COUNT_TTL_SECONDS = 60


class HistoryPagination(LimitOffsetPagination):
    """The history's count, remembered for its unfiltered first page.

    A dancer's history grows to thousands of rows and its first page is what clients open most;
    counting them each time cost more than reading the page. The remembered count is keyed by the
    newest analysis on the page, so a new submission (always the newest) brings a fresh count at
    once. Deleting an older analysis, or one committed out of order, can leave the count off
    by that much for at most HISTORY_COUNT_TTL_SECONDS.
    """

    def page_count(self, queryset, page, view) -> int:
        filtered = view is not None and view.history_is_filtered()
        if self.offset != 0 or filtered or not page:
            return super().page_count(queryset, page, view)
        key = f"history-count:{page[0].user_id}:{page[0].pk}"
        count = cache.get(key)
        if count is None:
            count = super().page_count(queryset, page, view)
            cache.set(key, count, HISTORY_COUNT_TTL_SECONDS)
        return count
