"""Lien settings. Every knob comes from the environment (see .env.example).

Configured values first, computed values after. Development defaults are safe;
production (DEBUG off) refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from lien.core.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
}


def email_backend(*, debug: bool, host: str, backend: str) -> str:
    """Where e-mail goes, from DEBUG and the EMAIL_HOST and EMAIL_BACKEND variables ("" = unset).

    An explicit EMAIL_BACKEND wins (smtp, console, file or a dotted path). Otherwise SMTP in
    production, and in development when EMAIL_HOST names a server; in development without one,
    the console: nothing leaves the machine and nothing fails with "Connection refused".
    Production without EMAIL_HOST keeps SMTP to localhost:25 (a relay on the server, as
    before) rather than failing at start-up: deployments and `check --deploy` rely on it, and a
    missing relay shows as failed messages in the delivery log, not as lost ones.
    """
    if backend:
        if backend in _EMAIL_BACKENDS:
            return _EMAIL_BACKENDS[backend]
        if "." in backend:
            return backend
        raise ImproperlyConfigured(
            f"EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)} or a dotted path, "
            f"got {backend!r}."
        )
    if host or not debug:
        return _EMAIL_BACKENDS["smtp"]
    return _EMAIL_BACKENDS["console"]


# --- Configured -----------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DATABASE_URL = env_secret("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Slug of the structure whose home page is the instance's front page (one-town instances).
HOME_STRUCTURE = env_str("HOME_STRUCTURE")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
SECURE = env_bool("SECURE", not DEBUG)  # HTTPS-only cookies, HSTS, redirect
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
# smtp, console or file (EMAIL_FILE_PATH); unset: see email_backend() above.
EMAIL_BACKEND = email_backend(
    debug=DEBUG, host=env_str("EMAIL_HOST"), backend=env_str("EMAIL_BACKEND").strip()
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "emails"))
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "lien@localhost")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# How many reverse proxies stand in front of Lien, each appending to X-Forwarded-For (see
# docs/DEPLOYMENT.md). 0: the client is REMOTE_ADDR and X-Forwarded-For is ignored. N: the
# client is the address the outermost of those N proxies saw (lien/core/http.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (or SECRET_KEY_FILE).")
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT must be 0 or more (proxies in front of Lien), "
        f"got {TRUSTED_PROXY_COUNT}."
    )
if env_bool("BEHIND_PROXY", False) and not TRUSTED_PROXY_COUNT:
    # The old setting: ignoring it would count every client as the proxy (and loop on HTTPS).
    raise ImproperlyConfigured(
        "BEHIND_PROXY is gone: set TRUSTED_PROXY_COUNT to the number of reverse proxies in "
        "front of Lien (1 for the nginx of docs/DEPLOYMENT.md), or remove BEHIND_PROXY."
    )
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off.")

# --- Computed -------------------------------------------------------------------
INSTALLED_APPS = [
    "lien.core.admin_site.LienAdminConfig",  # django.contrib.admin, run without scopes
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "lien.core",
    "lien.accounts",
    "lien.places",
    "lien.schedule",
    "lien.site",
    "lien.journal",
    "lien.beneficiaries",
    "lien.activities",
    "lien.appointments",
]

MIDDLEWARE = [
    "lien.core.middleware.ScopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "lien.core.middleware.StructureTimeZoneMiddleware",
    "lien.core.middleware.JournalClientMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "lien.core.middleware.BadInputMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "lien.accounts.middleware.StaffTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lien.urls"
WSGI_APPLICATION = "lien.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "lien" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lien.site.context_processors.site",
            ],
            "builtins": ["lien.core.templatetags.lien"],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Immediate transactions serialise writers instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "site:staff_home"

# django-axes: lock an account+client pair after repeated failures.
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "lien.accounts.views.lockout"
AXES_USERNAME_FORM_FIELD = "username"
# The one client address of lien/core/http.py (TRUSTED_PROXY_COUNT), not axes' own guess.
AXES_CLIENT_IP_CALLABLE = "lien.core.http.client_ip"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "Lien"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "lien" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "lien" / "static"]
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# SMS: "none" (no SMS is queued; the production default), "console" (logged only; the
# development default), "file" (one JSON line per SMS in SMS_FILE_PATH) or "http" (the
# provider adapter in lien/appointments/sms.py).
SMS_BACKEND = env_str("SMS_BACKEND", "console" if DEBUG else "none")
SMS_HTTP_TIMEOUT = env_int("SMS_HTTP_TIMEOUT", 10)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "sms.log"))
SMS_HTTP_URL = env_str("SMS_HTTP_URL")
SMS_HTTP_TOKEN = env_secret("SMS_HTTP_TOKEN")
SMS_SENDER = env_str("SMS_SENDER", "LIEN")

# Shared cache (rate limits) in the database: no per-process state, no extra server.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "lien_cache",
    }
}
RATELIMIT_VIEW = "lien.core.http.rate_limited"
# Off only for load benchmarks from one address (bench/bench_http.py).
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)

# Strict CSP: no inline script or style, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10  # a working day
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
