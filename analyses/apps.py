from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analyses"

    def ready(self):
        # The staff reports page (admin URL wrapper) and the maintenance beat task.
        from analyses import admin_reports, tasks_maintenance  # noqa: F401

        admin_reports.install()
