"""Pages for people rather than API clients."""

from django.shortcuts import render


def home(request):
    """`GET /`: where to go next, until the practice page takes this place."""
    return render(request, "home.html")
