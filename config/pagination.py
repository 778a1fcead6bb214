from django.conf import settings
from rest_framework import pagination

from config.bounds import BIGINT_MAX


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` (default 10, max 100) and `offset`; answers {count, next, previous, results}.

    The page is read before the count: a page shorter than the limit ends the list, so its count is
    known without a COUNT query (most lists are short).
    """

    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = 100

    def get_offset(self, request):
        # An offset past what a database integer holds is past the end: an empty page, not an overflow.
        return min(super().get_offset(request), BIGINT_MAX - self.max_limit)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        page = list(queryset[self.offset : self.offset + self.limit])
        self.count_set(len(page), lambda: self.page_count(queryset, page, view))
        return page

    def count_set(self, rows: int, count) -> None:
        """The list's length from a page of `rows` rows when that tells it, from count() otherwise."""
        if 0 < rows < self.limit or (self.offset == 0 and not rows):
            self.count = self.offset + rows
        else:
            self.count = count()
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True

    def page_count(self, queryset, page, view) -> int:
        """The list's full length when the page alone does not tell it."""
        return self.get_count(queryset)
