"""Account events in the journal: sign-ins, failures, sign-outs, lockouts, the second factor.

A journal entry belongs to a structure, and an account to a person who may work for several:
each event is recorded once per structure the user is a member of, with the user as actor
and as object. An account with no membership (an operator) leaves no entry; the admin's own
log and django-axes' records keep what happens to it.

Never a password, a TOTP code or a recovery code: only what happened (and counts).

A failed sign-in with an e-mail no account has is not journalled: there is no structure to
put it in, and the address typed could be anybody's. django-axes keeps it (AccessAttempt,
AccessFailureLog), and counts it towards the client's lockout.

The password step is seen through Django's and django-axes' signals, connected in
AccountsConfig.ready(). django-otp sends no signal when a device is confirmed or a code
accepted, so the second-factor views call `record_account_event()` themselves.
"""

from typing import Any

from django_scopes import scope, scopes_disabled

from lien import journal
from lien.accounts.models import Structure, User


def record_account_event(user: User, action: str, data: dict[str, Any] | None = None) -> int:
    """Journal `action` about `user`'s own account in each of their structures; returns how
    many entries were written."""
    # Legitimately cross-structure: the account belongs to every structure it is a member of.
    with scopes_disabled():
        structures = list(Structure.objects.filter(memberships__user=user).order_by("pk"))
    for structure in structures:
        with scope(structure=structure.pk):
            journal.record(structure=structure, action=action, obj=user, actor=user, data=data)
    return len(structures)


def _known_account(email: Any) -> User | None:
    """The account an e-mail typed at sign-in names, or None."""
    if not isinstance(email, str) or not email.strip():
        return None
    with scopes_disabled():
        return User.objects.filter(email__iexact=email.strip()).first()


def signed_in(sender, request, user, **kwargs) -> None:
    record_account_event(user, "account.signed_in")


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` holds the e-mail typed and a masked password: only the e-mail is read.
    user = _known_account(credentials.get(User.USERNAME_FIELD) or credentials.get("username"))
    if user is not None:
        record_account_event(user, "account.sign_in_failed")


def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_account_event(user, "account.signed_out")


def locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """django-axes refused this account from this client: sent when the failures reach the
    limit, and again at each attempt while the lock lasts (each extends it)."""
    user = _known_account(username)
    if user is not None:
        failures = getattr(request, "axes_failures_since_start", None)
        record_account_event(
            user, "account.locked_out", {"failures": failures} if failures else None
        )
