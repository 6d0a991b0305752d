"""`{% error_summary %}`: after a form error, the page opens on a list of the errors, each
linking to its field, so a screen reader user hears what went wrong and can go to it.

The base template renders it once, first in <main>, for every page: it looks through the
template context for bound forms and formsets with errors, whatever the view named them
(`form`, `closure_form`, `formset`…), so no view or page template has to pass anything.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django import template
from django.forms import BaseForm, BaseFormSet
from django.template.context import Context

register = template.Library()


@dataclass(frozen=True)
class ErrorItem:
    """One line of the summary: `label : message`, linking to the field when it has one."""

    message: str
    label: str = ""
    target: str = ""  # an element id on the page, without "#"


def _form_items(form: BaseForm) -> list[ErrorItem]:
    items = [ErrorItem(str(message)) for message in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            if field.is_hidden:  # nothing to go to: say it as a whole-form error
                items.append(ErrorItem(str(message)))
            else:
                target = field.id_for_label or field.auto_id or ""
                items.append(ErrorItem(str(message), str(field.label or field.name), target))
    return items


def _formset_items(formset: BaseFormSet) -> list[ErrorItem]:
    items = [ErrorItem(str(message)) for message in formset.non_form_errors()]
    for form in formset.forms:
        items.extend(_form_items(form))
    return items


def error_items(values: Iterable[object]) -> list[ErrorItem]:
    """The errors of the bound forms and formsets among `values`, each once, in order (a
    form of a formset is listed with its formset)."""
    values = list(values)
    seen: set[int] = {
        id(form) for value in values if isinstance(value, BaseFormSet) for form in value.forms
    }
    items: list[ErrorItem] = []
    for value in values:
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, BaseFormSet) and value.is_bound and not value.is_valid():
            items.extend(_formset_items(value))
        elif isinstance(value, BaseForm) and value.is_bound and value.errors:
            items.extend(_form_items(value))
    return items


@register.inclusion_tag("_error_summary.html", takes_context=True)
def error_summary(context: Context, with_script: bool = False) -> dict:
    """The summary, focused on load by its `autofocus`; `with_script` adds the small static
    script that makes sure of it and moves the focus into a field from its link (staff
    pages: the residents' pages load no script at all)."""
    return {"error_items": error_items(context.flatten().values()), "with_script": with_script}
