from django.shortcuts import redirect
from django.urls import reverse

# Paths a signed-in member may reach before completing the second factor.
_OPEN_PREFIXES = ("/compte/", "/static/", "/healthz")


class StaffTwoFactorMiddleware:
    """Staff who can reach personal data must pass TOTP before any staff or admin page.

    Public pages stay reachable; the member is sent to set up or enter their code.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path
        guarded = path.startswith(("/equipe/", "/admin/"))
        if (
            guarded
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and user.needs_two_factor
            and not path.startswith(_OPEN_PREFIXES)
        ):
            return redirect(f"{reverse('accounts:two_factor')}?next={path}")
        return self.get_response(request)
