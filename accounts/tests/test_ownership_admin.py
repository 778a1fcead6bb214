"""Staff delete or export a dancer's data from the admin, confirmed first, logged with their name (issue 18)."""

import io
import json
import zipfile

import pytest
from django.contrib.admin.models import LogEntry

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.ownership_helpers import dancer_with_data, frame_names, rows_referencing_user
from analyses.models import Analysis

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_deleting_a_user_in_the_admin_deletes_their_files_too_and_logs_who_did_it(client, staff):
    dancer = UserFactory()
    dancer_with_data(dancer, frames=2)
    names = frame_names(dancer.pk)
    assert client.get(f"{CHANGELIST}{dancer.pk}/delete/").status_code == 200  # the confirmation page

    response = client.post(f"{CHANGELIST}{dancer.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert rows_referencing_user(dancer.pk) == {}
    storage = Analysis._meta.get_field("frame").storage
    assert not any(storage.exists(n) for n in names)
    entry = LogEntry.objects.get(action_flag=3)
    assert entry.user_id == staff.pk and entry.object_repr == f"account {dancer.pk} and all its data"
    assert dancer.email not in entry.object_repr + entry.change_message


def test_the_delete_selected_action_goes_through_the_same_deletion(client, staff):
    dancers = [UserFactory(), UserFactory()]
    for n, dancer in enumerate(dancers):
        dancer_with_data(dancer, frames=1, shade=40 * n)
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [d.pk for d in dancers], "post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[d.pk for d in dancers]).exists()
    assert not Analysis.objects.exists() and LogEntry.objects.filter(user=staff, action_flag=3).count() == 2


def test_staff_export_a_users_data_after_confirming(client, staff):
    dancer = UserFactory()
    ids = dancer_with_data(dancer, frames=2)
    form = {"action": "export_data", "_selected_action": [dancer.pk]}

    confirm = client.post(CHANGELIST, form)
    assert confirm.status_code == 200 and b"Yes, export" in confirm.content

    response = client.post(CHANGELIST, {**form, "confirmed": "yes"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(a["id"] for a in json.loads(archive.read("analyses.json"))) == sorted(ids)
    entry = LogEntry.objects.get(change_message="Exported the user's data.")
    assert entry.user_id == staff.pk and entry.object_id == str(dancer.pk)


def test_the_user_list_shows_keep_frames(client, staff):
    UserFactory(keep_frames=False)
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and b"keep_frames" in page.content
