from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ExternalIdentity, User


class ExternalIdentityInline(admin.TabularInline):
    """The hosted sign-in accounts linked to this user; deleting one unlinks it (its next sign-in makes a new user)."""

    model = ExternalIdentity
    fields = ["issuer", "subject", "created_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [ExternalIdentityInline]
    list_display = ["email", "username", "language", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "language"]
    search_fields = ["email", "username"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"
    show_full_result_count = False
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Dance coach", {"fields": ["language"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "username", "language", "password1", "password2"]}),
    ]
