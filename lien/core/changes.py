"""Which fields of a model instance differ from its saved row: what a service journals.

The journal lists the NAMES of the fields a change touched, never their values (a value may be
someone's name or phone); services compare the instance they are about to save with the row.
"""

from django.db import models

# Bookkeeping columns that change on every save and say nothing about the change.
IGNORED = frozenset({"updated_at", "created_at"})


def changed_fields(instance: models.Model) -> list[str]:
    """Names of the concrete fields of `instance` whose value differs from its saved row.

    A new instance (no row yet) has no changed fields. Read through the base manager, which is
    not tenant-scoped: the instance was reached through a scoped query already.
    """
    model = type(instance)
    if instance.pk is None:
        return []
    saved = model._base_manager.filter(pk=instance.pk).first()
    if saved is None:
        return []
    return [
        field.name
        for field in model._meta.concrete_fields
        if not field.primary_key
        and field.name not in IGNORED
        and getattr(saved, field.attname) != getattr(instance, field.attname)
    ]
