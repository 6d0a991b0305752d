from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from lien.core import converters

converters.register()  # <id:…> in every app's urls.py

handler400 = "lien.site.views.bad_request"
handler403 = "lien.site.views.permission_denied"
handler404 = "lien.site.views.not_found"
handler500 = "lien.site.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("compte/", include("lien.accounts.urls")),
    path("equipe/<slug:structure_slug>/lieux/", include("lien.places.urls")),
    path("equipe/<slug:structure_slug>/planning/", include("lien.schedule.urls")),
    path("equipe/<slug:structure_slug>/rendez-vous/", include("lien.appointments.urls_staff")),
    path("equipe/<slug:structure_slug>/personnes/", include("lien.beneficiaries.urls")),
    path("equipe/<slug:structure_slug>/personnes/", include("lien.beneficiaries.urls_gdpr")),
    path("equipe/<slug:structure_slug>/activites/", include("lien.activities.urls")),
    path("equipe/<slug:structure_slug>/journal/", include("lien.journal.urls")),
    path("agenda/", include("lien.appointments.urls_feed")),
    path("", include("lien.appointments.urls_public")),
    # Uploaded logos; a production reverse proxy serves /media/ itself (docs/DEPLOYMENT.md).
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}, name="media"),
    path("", include("lien.site.urls")),
]
