"""URLconf of test_masking: an admin site whose Region admin masks ``contacts`` as a
phone and ``province`` as an ID number (a stand-in for the enrollment Person admin)."""
from django.contrib import admin
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from policies.masking import MaskedIdentityAdminMixin
from policies.models import Region

site = admin.AdminSite(name="masking_test")


class MaskedRegionAdmin(MaskedIdentityAdminMixin, SimpleHistoryAdmin):
    masked_fields = {"province": "document_number", "contacts": "phone"}
    list_display = ["code", "name", "province", "contacts"]
    search_fields = ["province"]


site.register(Region, MaskedRegionAdmin)

urlpatterns = [path("masking/", site.urls)]
