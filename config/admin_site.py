"""The project's admin site: Django's, plus the staff reports (`/admin/reports/` and its CSV)."""

from django.contrib import admin
from django.urls import path

from analyses import admin_reports


class CoachAdminSite(admin.AdminSite):
    def get_urls(self):
        # Staff only (admin_view): anyone else is sent to the admin login.
        return [
            path("reports/", self.admin_view(admin_reports.reports_view), name="reports"),
            path("reports.csv", self.admin_view(admin_reports.reports_csv_view), name="reports_csv"),
            *super().get_urls(),
        ]
