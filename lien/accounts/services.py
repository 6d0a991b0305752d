"""Writes of the accounts app: structures (their settings), memberships, staff users, and
two-factor enrolment and verification (TOTP with printed recovery codes).

Every change to a structure, a membership or a user is journalled in the structures it
concerns, with the names of the changed fields (never their values) and who made it: a staff
member (`actor`), or an operator in the admin (`actor`, `actor_label="admin"`).
"""

import secrets

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lien import journal
from lien.accounts.models import Membership, Structure, User
from lien.core.changes import changed_fields

RECOVERY_CODE_COUNT = 10


def totp_device(user: User, *, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.first()


@transaction.atomic
def totp_start_enrolment(*, user: User) -> TOTPDevice:
    """Return the user's pending (unconfirmed) TOTP device, creating it if needed."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application", confirmed=False)
    return device


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's recovery codes; returns them once, to be printed."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Codes de secours")
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def totp_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending device with a first valid code; returns fresh recovery codes."""
    if not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    return recovery_codes_regenerate(user=device.user)


def verify_second_factor(*, user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts `code` (TOTP first, then a single-use recovery code)."""
    device = totp_device(user)
    if device is not None and device.verify_token(code):
        return device
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if static is not None and static.verify_token(code):
        return static
    return None


# --- Structures, memberships, users --------------------------------------------------------


@transaction.atomic
def structure_save(*, structure: Structure, actor: User | None, actor_label: str = "") -> Structure:
    """Create a structure, or save the settings changed on it (name, contact, logo, colour,
    time zone, retention period…); journalled with the names of the changed fields."""
    created = structure.pk is None
    structure.full_clean()
    changed = changed_fields(structure)
    structure.save()
    if created:
        journal.record(
            structure=structure,
            action="structure.created",
            obj=structure,
            actor=actor,
            actor_label=actor_label,
        )
    elif changed:
        journal.record(
            structure=structure,
            action="structure.settings_updated",
            obj=structure,
            actor=actor,
            actor_label=actor_label,
            data={"fields": changed},
        )
    return structure


def _membership_data(membership: Membership) -> dict:
    # Who and which role: staff members are not the people the journal protects.
    return {"user": membership.user_id, "role": membership.role}


@transaction.atomic
def membership_save(
    *, membership: Membership, actor: User | None, actor_label: str = ""
) -> Membership:
    """Give a staff member a role in a structure, or change it; journalled in the structure
    (in both, when the membership moves from one structure to another)."""
    before = Membership.objects.filter(pk=membership.pk).first() if membership.pk else None
    membership.full_clean()
    changed = changed_fields(membership)
    membership.save()
    if before is not None and before.structure_id != membership.structure_id:
        journal.record(
            structure=before.structure,
            action="membership.deleted",
            obj=membership,
            actor=actor,
            actor_label=actor_label,
            data=_membership_data(before),
        )
        before = None
    if before is None:
        journal.record(
            structure=membership.structure,
            action="membership.created",
            obj=membership,
            actor=actor,
            actor_label=actor_label,
            data=_membership_data(membership),
        )
    elif changed:
        journal.record(
            structure=membership.structure,
            action="membership.updated",
            obj=membership,
            actor=actor,
            actor_label=actor_label,
            data={**_membership_data(membership), "fields": changed},
        )
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: User | None, actor_label: str = "") -> None:
    """Take a staff member out of a structure."""
    journal.record(
        structure=membership.structure,
        action="membership.deleted",
        obj=membership,
        actor=actor,
        actor_label=actor_label,
        data=_membership_data(membership),
    )
    membership.delete()


def _user_structures(user: User) -> list[Structure]:
    """A user has no structure of their own: their changes go in each of their structures'."""
    return [m.structure for m in Membership.objects.filter(user=user).select_related("structure")]


@transaction.atomic
def user_save(*, user: User, actor: User | None, actor_label: str = "") -> User:
    """Create a staff account or change it (name, e-mail, active, operator rights); a change
    is journalled in each structure the user belongs to. A new account belongs to none yet:
    what the journals record is each membership it is then given (`membership.created`)."""
    created = user.pk is None
    # The password is set by its own form (user_password_changed); a sign-in is no change.
    changed = [n for n in changed_fields(user) if n not in ("password", "last_login")]
    user.save()
    if created:
        return user
    for structure in _user_structures(user) if changed else []:
        journal.record(
            structure=structure,
            action="user.updated",
            obj=user,
            actor=actor,
            actor_label=actor_label,
            data={"fields": changed},
        )
    return user


@transaction.atomic
def user_password_changed(*, user: User, actor: User | None, actor_label: str = "") -> None:
    """An operator set or removed a staff member's password (the admin's own form saves it):
    journalled in the user's structures, without the password."""
    for structure in _user_structures(user):
        journal.record(
            structure=structure,
            action="user.password_changed",
            obj=user,
            actor=actor,
            actor_label=actor_label,
        )


@transaction.atomic
def user_delete(*, user: User, actor: User | None, actor_label: str = "") -> None:
    """Delete a staff account (its memberships go with it). The database refuses when the
    user ever acted in the journal: deactivate them instead."""
    for structure in _user_structures(user):
        journal.record(
            structure=structure,
            action="user.deleted",
            obj=user,
            actor=actor,
            actor_label=actor_label,
        )
    user.delete()
