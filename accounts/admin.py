from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
