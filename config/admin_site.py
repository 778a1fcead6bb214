"""The project's admin site: Django's, plus the staff reports (`/admin/reports/`, its CSV,
the trials' comparisons)."""

from django.contrib import admin
from django.urls import path

from analyses import admin_reports


class CoachAdminSite(admin.AdminSite):
    def get_urls(self):
        # Staff only (admin_view): anyone else is sent to the admin login.
        return [
            path("reports/", self.admin_view(admin_reports.reports_view), name="reports"),
            path("reports/trials/", self.admin_view(admin_reports.trials_view), name="trials"),
            path("reports/trials/<str:name>/", self.admin_view(admin_reports.trial_compare_view), name="trial_compare"),
            path("reports.csv", self.admin_view(admin_reports.reports_csv_view), name="reports_csv"),
            *super().get_urls(),
        ]
