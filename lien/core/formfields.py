"""Typed access to a form's fields: `form.fields` holds plain `Field`s for the type checker."""

from django import forms


def model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The form's model choice field `name` (single or multiple), to narrow its queryset."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


def choice(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, to set its choices."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field
