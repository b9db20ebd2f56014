"""Each iOS parser's PATTERNS take its file in a full file system extraction, in an iTunes/Finder
backup as `dalil parse` lists it (`/<domain>/<relativePath>`), and in iLEAPP-style slices."""

from __future__ import annotations

import pytest

from triage.artifacts import load
from triage.artifacts.collect import matches

WHERE = {
    "ios.sms": ["/private/var/mobile/Library/SMS/sms.db", "/HomeDomain/Library/SMS/sms.db",
                "/filesystem2/mobile/Library/SMS/sms.db"],
    "ios.callhistory": ["/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata",
                        "/HomeDomain/Library/CallHistoryDB/CallHistory.storedata"],
    "ios.addressbook": ["/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb",
                        "/HomeDomain/Library/AddressBook/AddressBook.sqlitedb",
                        "/filesystem2/mobile/Library/AddressBook/AddressBook.sqlitedb"],
    "ios.whatsapp": ["/private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/"
                     "ChatStorage.sqlite", "/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
                     "/AppDomainGroup-group.net.whatsapp.WhatsAppSMB.shared/ChatStorage.sqlite"],
    "ios.whatsapp.contacts": ["/private/var/mobile/Containers/Shared/AppGroup/UUID/ContactsV2.sqlite",
                              "/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ContactsV2.sqlite"],
    "ios.whatsapp.calls": ["/private/var/mobile/Containers/Shared/AppGroup/UUID/CallHistory.sqlite",
                           "/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/CallHistory.sqlite"],
    "ios.safari": ["/private/var/mobile/Library/Safari/History.db",
                   "/private/var/mobile/Containers/Data/Application/UUID/Library/Safari/History.db",
                   "/AppDomain-com.apple.mobilesafari/Library/Safari/History.db"],
    "ios.accounts": ["/private/var/mobile/Library/Accounts/Accounts3.sqlite",
                     "/HomeDomain/Library/Accounts/Accounts3.sqlite"],
    "ios.photos": ["/private/var/mobile/Media/PhotoData/Photos.sqlite", "/CameraRollDomain/Media/PhotoData/Photos.sqlite"],
    "ios.sim": ["/private/var/wireless/Library/Preferences/com.apple.commcenter.data.plist",
                "/WirelessDomain/Library/Preferences/com.apple.commcenter.plist",
                "/private/var/wireless/Library/Preferences/com.apple.commcenter.device_specific_nobackup.plist"],
    "ios.wifi": ["/private/var/preferences/com.apple.wifi.known-networks.plist",
                 "/SystemPreferencesDomain/SystemConfiguration/com.apple.wifi.plist"],
}


@pytest.mark.parametrize("name", sorted(WHERE))
def test_patterns_take_both_layouts_and_nothing_else(name: str) -> None:
    parsers = load()
    cls = parsers[name]
    for path in WHERE[name]:
        assert matches(cls, path), (name, path)
    others = [p for other, paths in WHERE.items() if other != name for p in paths]
    assert [p for p in others if matches(cls, p)] == []  # no parser takes another's file
    assert not matches(cls, "/private/var/mobile/Library/Notes/notes.sqlite")


def test_every_ios_parser_is_listed_here() -> None:
    assert sorted(n for n in load() if n.startswith("ios.")) == sorted(WHERE)
