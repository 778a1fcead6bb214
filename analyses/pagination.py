import orjson

from analyses.filters import AnalysisFilter
from analyses.history import analysis_history_json
from analyses.models import Analysis
from config.memos import Memo
from config.pagination import LimitOffsetPagination

HISTORY_COUNT_TTL_SECONDS = 60
# (user id, newest analysis id) -> count, per process: no cache round trip per page.
_history_counts = Memo("history counts", seconds=HISTORY_COUNT_TTL_SECONDS, max_entries=10_000)


def history_is_filtered(query_params) -> bool:
    return any(name in query_params for name in AnalysisFilter.base_filters)


class HistoryPagination(LimitOffsetPagination):
    """The history's count, remembered for its unfiltered first page.

    A dancer's history grows to thousands of rows and its first page is what clients open most;
    counting them each time cost more than reading the page. Each process remembers it, keyed by the
    newest analysis on the page, so a new submission (always the newest) brings a fresh count at
    once. Deleting an older analysis, or one committed out of order, can leave the count off
    by that much for at most HISTORY_COUNT_TTL_SECONDS.
    """

    def page_count(self, queryset, page, view) -> int:
        def count():
            return super(HistoryPagination, self).page_count(queryset, page, view)

        if history_is_filtered(self.request.query_params) or not page:
            return count()
        return self.remembered_count(page[0]["id"], count)

    def remembered_count(self, newest_id, count) -> int:
        if self.offset != 0 or newest_id is None:
            return count()
        return _history_counts.get_or_set((self.request.user.pk, newest_id), count)

    def paginate_json(self, request, *, user) -> orjson.Fragment:
        """An unfiltered page on PostgreSQL: the rows' JSON as the database wrote it (analyses.history)."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows, newest_id, rows_json = analysis_history_json(user=user, limit=self.limit, offset=self.offset)
        self.count_set(rows, lambda: self.remembered_count(newest_id, Analysis.objects.filter(user=user).count))
        return orjson.Fragment(rows_json)
