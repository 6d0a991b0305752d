from django.urls import path

from lien.appointments import feeds

app_name = "feeds"
urlpatterns = [
    path("<str:token>.ics", feeds.feed, name="feed"),
]
