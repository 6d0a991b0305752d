import base64

import segno
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from lien.accounts import services
from lien.accounts.forms import EmailAuthenticationForm, OTPForm
from lien.accounts.models import User
from lien.accounts.requests import SignedInRequest
from lien.accounts.signals import record_account_event

_RECOVERY_SESSION_KEY = "lien_recovery_codes"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("site:staff_home")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        user = self.request.user  # signed in by form_valid() just before
        if isinstance(user, User) and user.needs_two_factor:
            target = self.get_redirect_url()
            url = reverse("accounts:two_factor")
            return f"{url}?{urlencode({'next': target})}" if target else url
        return super().get_success_url()


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("Vous êtes déconnecté·e."))
    return redirect("accounts:login")


def lockout(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """Shown by django-axes after too many failed attempts."""
    return render(request, "accounts/lockout.html", status=429)


def _qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
def two_factor(request: SignedInRequest) -> HttpResponse:
    """Enter the second factor, or set up the authenticator app on first sign-in."""
    user = request.user
    if user.is_verified():
        return redirect(_safe_next(request))
    device = services.totp_device(user)
    form = OTPForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            used = services.verify_second_factor(user=user, code=form.cleaned_data["code"])
            if used is not None:
                otp_login(request, used)
                if isinstance(used, StaticDevice):  # a recovery code, now spent
                    left = used.token_set.count()
                    record_account_event(user, "account.recovery_code_used", {"left": left})
                else:
                    record_account_event(user, "account.second_factor_verified")
                return redirect(_safe_next(request))
            record_account_event(user, "account.second_factor_failed", {"step": "sign_in"})
            form.add_error(
                "code",
                _(
                    "Code incorrect ou expiré. Réessayez avec le code "
                    "affiché maintenant par votre application."
                ),
            )
        return render(
            request, "accounts/two_factor_verify.html", {"form": form, "next": _safe_next(request)}
        )

    pending = services.totp_start_enrolment(user=user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            codes = services.totp_confirm(device=pending, code=form.cleaned_data["code"])
            if codes is not None:
                record_account_event(user, "account.second_factor_enrolled")
                record_account_event(
                    user, "account.recovery_codes_generated", {"count": len(codes)}
                )
        if codes is not None:
            otp_login(request, pending)
            request.session[_RECOVERY_SESSION_KEY] = codes
            return redirect(f"{reverse('accounts:recovery_codes')}?next={_safe_next(request)}")
        record_account_event(user, "account.second_factor_failed", {"step": "enrolment"})
        form.add_error(
            "code",
            _(
                "Ce code ne correspond pas. Vérifiez l'heure de votre "
                "téléphone et saisissez le code affiché maintenant."
            ),
        )
    secret = base64.b32encode(pending.bin_key).decode()
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(pending.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _safe_next(request),
        },
    )


@login_required
def recovery_codes(request: SignedInRequest) -> HttpResponse:
    """Shows freshly generated recovery codes once, on a printable page."""
    codes = request.session.pop(_RECOVERY_SESSION_KEY, None)
    if not codes or not request.user.is_verified():
        messages.info(
            request,
            _(
                "Les codes de secours ne s'affichent qu'une fois. "
                "Vous pouvez en générer de nouveaux."
            ),
        )
        return redirect("accounts:security")
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": _safe_next(request)}
    )


@login_required
def security(request: SignedInRequest) -> HttpResponse:
    """The member's security page: regenerate recovery codes (needs the second factor)."""
    if request.user.needs_two_factor and not request.user.is_verified():
        return redirect(f"{reverse('accounts:two_factor')}?next={request.path}")
    if request.method == "POST":
        with transaction.atomic():
            codes = services.recovery_codes_regenerate(user=request.user)
            record_account_event(
                request.user, "account.recovery_codes_generated", {"count": len(codes)}
            )
        request.session[_RECOVERY_SESSION_KEY] = codes
        return redirect("accounts:recovery_codes")
    return render(
        request,
        "accounts/security.html",
        {
            "has_totp": services.totp_device(request.user) is not None,
        },
    )
