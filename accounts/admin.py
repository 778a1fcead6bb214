import tempfile

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.http import FileResponse
from django.template.response import TemplateResponse

from accounts.exports import export_write
from accounts.models import ExternalIdentity, User
from accounts.ownership import user_delete


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
    list_display = ["email", "username", "language", "keep_frames", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "language", "keep_frames"]
    search_fields = ["email", "username"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"
    show_full_result_count = False
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Dance coach", {"fields": ["language", "keep_frames"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "username", "language", "password1", "password2"]}),
    ]

    # --- Issue 18: deleting goes through accounts.ownership (files, tokens, the admin's history) ----
    actions = ["export_data"]

    def delete_model(self, request, obj):
        summary = user_delete(user=obj)
        if summary.files_pending:
            self.message_user(
                request,
                f"{summary.files_pending} files are not deleted from storage yet; the beat job retries them.",
                messages.WARNING,
            )

    def delete_queryset(self, request, queryset):
        for user in list(queryset):
            self.delete_model(request, user)

    def log_deletions(self, request, queryset):
        # Who deleted which account number, naming no one: the account's own history goes with it.
        content_type = ContentType.objects.get_for_model(User)
        return [
            LogEntry.objects.create(
                user_id=request.user.pk,
                content_type_id=content_type.pk,
                object_id=None,
                object_repr=f"account {user.pk} and all its data",
                action_flag=DELETION,
                change_message="Deleted the account and all its data (analyses, frames, sessions, playlists).",
            )
            for user in queryset
        ]

    @admin.action(description="Export the selected user's data (ZIP)", permissions=["change"])
    def export_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user to export.", messages.ERROR)
            return None
        user = queryset.get()
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Export a user's data",
                "subject": user,
                "opts": self.model._meta,
                "action": "export_data",
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/export_confirmation.html", context)
        target = tempfile.TemporaryFile()
        export_write(user=user, target=target)
        target.seek(0)
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(User).pk,
            object_id=str(user.pk),
            object_repr=str(user),
            action_flag=CHANGE,
            change_message="Exported the user's data.",
        )
        return FileResponse(target, as_attachment=True, filename=f"user-{user.pk}-export.zip")
