"""Celery tasks of the accounts app: thin wrappers that take ids and call services."""

from celery import shared_task


@shared_task(name="accounts.files_cleanup")
def files_cleanup() -> dict:
    from accounts.ownership import files_cleanup as cleanup

    return cleanup()


@shared_task(name="accounts.data_export_build", acks_late=True)
def data_export_build(export_id: str) -> str:
    from accounts.exports import data_export_build as build

    return build(export_id=export_id)
