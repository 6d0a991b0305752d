from django.urls import path

from lien.beneficiaries import views, views_picker

app_name = "beneficiaries"
urlpatterns = [
    path("", views.beneficiary_list, name="list"),
    path("nouveau/", views.create, name="create"),
    path("notice/", views.notice, name="notice"),
    path("chercher/", views_picker.pick, name="pick"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/modifier/", views.edit, name="edit"),
    path("<id:pk>/fusionner/", views.merge, name="merge"),
    path("<id:pk>/notice-remise/", views.notice_given, name="notice_given"),
]
