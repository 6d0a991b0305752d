"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API).

- Chromium is never downloaded: the tests use /usr/bin/chromium. When it is absent they are
  skipped with the reason shown by `-ra`, except on CI (`CI=true`), where they fail.
- Every page records the requests it makes; a test fails (in teardown at the latest) if any
  request leaves the live server: the site must not depend on a third-party host.
- Demo data (`load_demo`) is loaded per test, on pytest-django's `live_server` with a
  transactional database, since the server thread must see committed rows.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the main thread; Django would otherwise refuse
# ORM calls made by the tests themselves (load_demo, assertions on the database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Schemes that never reach the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


def require_chromium() -> None:
    """Skip (fail on CI) when Debian's Chromium is missing. Never download a browser."""
    if CHROMIUM.exists():
        return
    message = f"Chromium not installed at {CHROMIUM}: apt-get install chromium"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page in its own browser context, with every request URL it made."""

    page: object
    context: object
    server_url: str
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.server_url + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        return response

    def foreign_requests(self) -> list[str]:
        server = urlsplit(self.server_url).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).netloc != server
        ]

    def assert_no_third_party_requests(self) -> None:
        assert self.requests, "no request recorded: is the recorder attached?"
        foreign = self.foreign_requests()
        assert not foreign, "requests to another host than the live server:\n" + "\n".join(foreign)


@pytest.fixture
def open_tab(browser, live_server):
    """Factory: a new context (own cookies, own settings) and page, closed after the test.

    Keyword arguments go to `browser.new_context` (viewport, java_script_enabled…)."""
    tabs: list[Tab] = []

    def make(**options) -> Tab:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "fr-FR")
        options.setdefault("timezone_id", "Europe/Paris")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        tab = Tab(page=None, context=context, server_url=live_server.url)
        context.on("request", lambda request: tab.requests.append(request.url))
        tab.page = context.new_page()
        tabs.append(tab)
        return tab

    yield make
    try:
        foreign = [url for tab in tabs for url in tab.foreign_requests()]
        assert not foreign, "requests to another host than the live server:\n" + "\n".join(foreign)
    finally:
        for tab in tabs:
            tab.context.close()


@pytest.fixture
def tab(open_tab) -> Tab:
    """A desktop page (1280×900), JavaScript on."""
    return open_tab()


@pytest.fixture
def phone_tab(open_tab) -> Tab:
    """A phone-sized page (390×844, touch)."""
    return open_tab(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)


@pytest.fixture
def demo(transactional_db, settings):
    """The demo town and the second structure; `/` shows Villebrie's home."""
    settings.HOME_STRUCTURE = "villebrie"
    call_command("load_demo", quiet=True)
    from lien.accounts.models import Structure

    return Structure.objects.get(slug="villebrie")


# --- Staff sign-in ------------------------------------------------------------------------
class DemoAccounts:
    """Demo logins: password, current TOTP codes, and the sign-in steps in the browser."""

    coordinator = "coordination@villebrie.example"

    @property
    def password(self) -> str:
        from lien.core.management.commands.load_demo import DEMO_PASSWORD

        return DEMO_PASSWORD

    def totp(self, email: str, drift: int = 0) -> str:
        """The 6-digit TOTP code of a demo account now (its key is known: DEMO_KEYS)."""
        from django_otp.oath import totp

        from lien.core.management.commands.load_demo import DEMO_KEYS

        key = bytes.fromhex(DEMO_KEYS[email])
        return f"{totp(key, step=30, digits=6, drift=drift):06d}"

    def wrong_totp(self, email: str) -> str:
        """A 6-digit code that no time step near now accepts (the device tolerates ±1)."""
        valid = {self.totp(email, drift) for drift in range(-3, 4)}
        return next(
            code for code in (f"{n:06d}" for n in range(123456, 10**6)) if code not in valid
        )

    def enter_password(self, tab: Tab, email: str | None = None) -> None:
        """Fill the login form; an account with 2FA then lands on the code page."""
        page = tab.page
        tab.goto("/compte/connexion/")
        page.get_by_label("Adresse e-mail").fill(email or self.coordinator)
        page.get_by_label("Mot de passe").fill(self.password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/compte/double-authentification/**")

    def enter_code(self, tab: Tab, code: str) -> None:
        page = tab.page
        page.get_by_label("Code à 6 chiffres").fill(code)
        page.get_by_role("button", name="Valider").click()
        page.wait_for_load_state()

    def sign_in(self, tab: Tab, email: str | None = None) -> None:
        """E-mail + password, then the current TOTP code: lands in the staff area."""
        email = email or self.coordinator
        self.enter_password(tab, email)
        self.enter_code(tab, self.totp(email))
        tab.page.wait_for_url("**/equipe/**")


@pytest.fixture
def accounts(demo) -> DemoAccounts:
    return DemoAccounts()
