from django.contrib.admin.apps import AdminConfig


class CoachAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (config.admin_site), as Django's docs override it."""

    default_site = "config.admin_site.CoachAdminSite"
