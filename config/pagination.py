from django.conf import settings
from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` (default 10, max 100) and `offset`; answers {count, next, previous, results}."""

    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = 100
