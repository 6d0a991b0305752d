from django.urls import path

from lien.beneficiaries import views_gdpr

app_name = "gdpr"
urlpatterns = [
    path("<id:pk>/donnees/", views_gdpr.export, name="export"),
    path("<id:pk>/donnees.json", views_gdpr.export_json, name="export_json"),
    path("<id:pk>/effacer/", views_gdpr.erase, name="erase"),
    path("import/", views_gdpr.import_upload, name="import"),
    path("import/<id:pk>/", views_gdpr.import_status, name="import_status"),
    path("conservation/", views_gdpr.retention, name="retention"),
]
