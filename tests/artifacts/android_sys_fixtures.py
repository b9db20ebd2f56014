"""Android system files with the real schemas and layouts, for the accounts, Wi-Fi, packages, build.prop
and SIM parsers' tests. Each schema or layout names the public source it was taken from; the values
are made up for the tests (no person's data). Chrome History needs none: the tests use plaso's real
files from ../shared/testdata.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

# --- accounts -------------------------------------------------------------------------------------
# AOSP frameworks/base services/core/java/com/android/server/accounts/AccountsDb.java
# (aosp-mirror/platform_frameworks_base@0172a23b1a): CeDatabaseHelper.onCreate (CE_DATABASE_VERSION 10)
ACCOUNTS_CE_SCHEMA = """
CREATE TABLE accounts ( _id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
    password TEXT, UNIQUE(name,type));
CREATE TABLE authtokens (  _id INTEGER PRIMARY KEY AUTOINCREMENT,  accounts_id INTEGER NOT NULL,
    type TEXT NOT NULL,  authtoken TEXT,  UNIQUE (accounts_id,type));
CREATE TABLE extras ( _id INTEGER PRIMARY KEY AUTOINCREMENT, accounts_id INTEGER, key TEXT NOT NULL,
    value TEXT, UNIQUE(accounts_id,key));
CREATE TRIGGER accountsDelete DELETE ON accounts BEGIN   DELETE FROM authtokens     WHERE accounts_id=OLD._id ;
    DELETE FROM extras     WHERE accounts_id=OLD._id ; END;
"""
# same file, DeDatabaseHelper.onCreate (DE_DATABASE_VERSION 3)
ACCOUNTS_DE_SCHEMA = """
CREATE TABLE accounts ( _id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, previous_name TEXT,
    last_password_entry_time_millis_epoch INTEGER DEFAULT 0, UNIQUE(name,type));
CREATE TABLE meta ( key TEXT PRIMARY KEY NOT NULL, value TEXT);
CREATE TABLE grants (  accounts_id INTEGER NOT NULL, auth_token_type STRING NOT NULL,  uid INTEGER NOT NULL,
    UNIQUE (accounts_id,auth_token_type,uid));
CREATE TABLE shared_accounts ( _id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
    UNIQUE(name,type));
CREATE TRIGGER accountsDelete DELETE ON accounts BEGIN   DELETE FROM grants     WHERE accounts_id=OLD._id ; END;
CREATE TABLE debug_table ( _id INTEGER,action_type TEXT NOT NULL, time DATETIME,caller_uid INTEGER NOT NULL,
    table_name TEXT NOT NULL,primary_key INTEGER PRIMARY KEY);
CREATE INDEX timestamp_index ON debug_table (time);
CREATE TABLE visibility ( accounts_id INTEGER NOT NULL, _package TEXT NOT NULL, value INTEGER,
    PRIMARY KEY(accounts_id,_package));
CREATE TRIGGER accountsDeleteVisibility DELETE ON accounts BEGIN   DELETE FROM visibility
    WHERE accounts_id=OLD._id ; END;
"""
# Android 6 and earlier (/data/system/users/0/accounts.db): AccountManagerService.DatabaseHelper.onCreate,
# as carried over verbatim by asLody/VirtualApp VAccountManagerService (DATABASE_VERSION 8 layout)
ACCOUNTS_PRE_N_SCHEMA = """
CREATE TABLE accounts ( _id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
    password TEXT, previous_name TEXT, last_password_entry_time_millis_epoch INTEGER DEFAULT 0,
    UNIQUE(name,type));
CREATE TABLE authtokens (  _id INTEGER PRIMARY KEY AUTOINCREMENT,  accounts_id INTEGER NOT NULL,
    type TEXT NOT NULL,  authtoken TEXT,  UNIQUE (accounts_id,type));
CREATE TABLE grants (  accounts_id INTEGER NOT NULL, auth_token_type STRING NOT NULL,  uid INTEGER NOT NULL,
    UNIQUE (accounts_id,auth_token_type,uid));
CREATE TABLE extras ( _id INTEGER PRIMARY KEY AUTOINCREMENT, accounts_id INTEGER, key TEXT NOT NULL,
    value TEXT, UNIQUE(accounts_id,key));
CREATE TABLE meta ( key TEXT PRIMARY KEY NOT NULL, value TEXT);
CREATE TABLE shared_accounts ( _id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, type TEXT NOT NULL,
    UNIQUE(name,type));
"""

# --- telephony.db siminfo -------------------------------------------------------------------------
# Android 5.1: TelephonyProvider.DatabaseHelper.createSimInfoTable (decompiled, as the code corpus holds it)
SIMINFO_V5_SCHEMA = ("CREATE TABLE siminfo(_id INTEGER PRIMARY KEY AUTOINCREMENT,icc_id TEXT NOT NULL,"
                     "sim_id INTEGER DEFAULT -1,display_name TEXT,carrier_name TEXT,name_source INTEGER DEFAULT 0,"
                     "color INTEGER DEFAULT 0,number TEXT,display_number_format INTEGER NOT NULL DEFAULT 1,"
                     "data_roaming INTEGER DEFAULT 0,mcc INTEGER DEFAULT 0,mnc INTEGER DEFAULT 0);")
# Android 11: packages/providers/TelephonyProvider TelephonyProvider.getStringForSimInfoTableCreation, with the
# column names of android.provider.Telephony.SimInfo (COLUMN_ICC_ID = "icc_id", COLUMN_SIM_SLOT_INDEX = "sim_id", …)
SIMINFO_V11_SCHEMA = (
    "CREATE TABLE siminfo(_id INTEGER PRIMARY KEY AUTOINCREMENT,icc_id TEXT NOT NULL,sim_id INTEGER DEFAULT -1,"
    "display_name TEXT,carrier_name TEXT,name_source INTEGER DEFAULT 0,color INTEGER DEFAULT 0,number TEXT,"
    "display_number_format INTEGER NOT NULL DEFAULT 1,data_roaming INTEGER DEFAULT 0,mcc INTEGER DEFAULT 0,"
    "mnc INTEGER DEFAULT 0,mcc_string TEXT,mnc_string TEXT,ehplmns TEXT,hplmns TEXT,"
    "sim_provisioning_status INTEGER DEFAULT 0,is_embedded INTEGER DEFAULT 0,card_id TEXT NOT NULL,"
    "access_rules BLOB,access_rules_from_carrier_configs BLOB,is_removable INTEGER DEFAULT 0,"
    "enable_cmas_extreme_threat_alerts INTEGER DEFAULT 1,enable_cmas_severe_threat_alerts INTEGER DEFAULT 1,"
    "enable_cmas_amber_alerts INTEGER DEFAULT 1,enable_emergency_alerts INTEGER DEFAULT 1,"
    "alert_sound_duration INTEGER DEFAULT 4,alert_reminder_interval INTEGER DEFAULT 0,"
    "enable_alert_vibrate INTEGER DEFAULT 1,enable_alert_speech INTEGER DEFAULT 1,"
    "enable_etws_test_alerts INTEGER DEFAULT 0,enable_channel_50_alerts INTEGER DEFAULT 1,"
    "enable_cmas_test_alerts INTEGER DEFAULT 0,show_cmas_opt_out_dialog INTEGER DEFAULT 1,"
    "volte_vt_enabled INTEGER DEFAULT -1,vt_ims_enabled INTEGER DEFAULT -1,wfc_ims_enabled INTEGER DEFAULT -1,"
    "wfc_ims_mode INTEGER DEFAULT -1,wfc_ims_roaming_mode INTEGER DEFAULT -1,"
    "wfc_ims_roaming_enabled INTEGER DEFAULT -1,is_opportunistic INTEGER DEFAULT 0,group_uuid TEXT,"
    "is_metered INTEGER DEFAULT 1,iso_country_code TEXT,carrier_id INTEGER DEFAULT -1,"
    "profile_class INTEGER DEFAULT -1,subscription_type INTEGER DEFAULT 0,group_owner TEXT,"
    "data_enabled_override_rules TEXT,imsi TEXT,uicc_applications_enabled INTEGER DEFAULT 1,"
    "allowed_network_types BIGINT DEFAULT -1,ims_rcs_uce_enabled INTEGER DEFAULT 0);")

# --- Wi-Fi ----------------------------------------------------------------------------------------
# The layout of AOSP frameworks/opt/net/wifi WifiConfigStoreTest TEST_DATA_XML_STRING_FORMAT (store Version 3):
# a WifiConfiguration, NetworkStatus and IpConfiguration per Network; the second network adds what a real
# phone keeps (a PSK, the gateway MAC, HasEverConnected), the third Samsung's extra keys
# (semCreationTime, semUpdateTime, LastConnectedTime: Samsung's WifiConfigurationXmlUtil tag names).
WIFI_CONFIG_STORE_XML = """<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<WifiConfigStoreData>
<int name="Version" value="3" />
<NetworkList>
<Network>
<WifiConfiguration>
<string name="ConfigKey">&quot;Cafe Zuwara&quot;NONE</string>
<string name="SSID">&quot;Cafe Zuwara&quot;</string>
<null name="BSSID" />
<null name="PreSharedKey" />
<null name="WEPKeys" />
<int name="WEPTxKeyIndex" value="0" />
<boolean name="HiddenSSID" value="false" />
<boolean name="RequirePMF" value="false" />
<byte-array name="AllowedKeyMgmt" num="1">01</byte-array>
<byte-array name="AllowedProtocols" num="0"></byte-array>
<byte-array name="AllowedAuthAlgos" num="0"></byte-array>
<byte-array name="AllowedGroupCiphers" num="0"></byte-array>
<byte-array name="AllowedPairwiseCiphers" num="0"></byte-array>
<byte-array name="AllowedGroupMgmtCiphers" num="0"></byte-array>
<byte-array name="AllowedSuiteBCiphers" num="0"></byte-array>
<boolean name="Shared" value="true" />
<int name="Status" value="2" />
<null name="FQDN" />
<null name="ProviderFriendlyName" />
<null name="LinkedNetworksList" />
<null name="DefaultGwMacAddress" />
<boolean name="ValidatedInternetAccess" value="false" />
<boolean name="NoInternetAccessExpected" value="false" />
<int name="UserApproved" value="0" />
<boolean name="MeteredHint" value="false" />
<int name="MeteredOverride" value="0" />
<boolean name="UseExternalScores" value="false" />
<int name="NumAssociation" value="0" />
<int name="CreatorUid" value="1000" />
<string name="CreatorName">android.uid.system:1000</string>
<string name="CreationTime">time=06-15 12:34:56.789</string>
<int name="LastUpdateUid" value="-1" />
<null name="LastUpdateName" />
<int name="LastConnectUid" value="0" />
<boolean name="IsLegacyPasspointConfig" value="false" />
<long-array name="RoamingConsortiumOIs" num="0" />
<string name="RandomizedMacAddress">da:a1:19:c4:26:fa</string>
<int name="MacRandomizationSetting" value="1" />
</WifiConfiguration>
<NetworkStatus>
<string name="SelectionStatus">NETWORK_SELECTION_ENABLED</string>
<string name="DisableReason">NETWORK_SELECTION_ENABLE</string>
<null name="ConnectChoice" />
<long name="ConnectChoiceTimeStamp" value="-1" />
<boolean name="HasEverConnected" value="false" />
</NetworkStatus>
<IpConfiguration>
<string name="IpAssignment">DHCP</string>
<string name="ProxySettings">NONE</string>
</IpConfiguration>
</Network>
<Network>
<WifiConfiguration>
<string name="ConfigKey">&quot;Marsa-5G&quot;WPA_PSK</string>
<string name="SSID">&quot;Marsa-5G&quot;</string>
<string name="BSSID">0a:1b:2c:3d:4e:5f</string>
<string name="PreSharedKey">&quot;boat-leaves-at-night&quot;</string>
<null name="WEPKeys" />
<int name="WEPTxKeyIndex" value="0" />
<boolean name="HiddenSSID" value="true" />
<boolean name="RequirePMF" value="false" />
<byte-array name="AllowedKeyMgmt" num="1">02</byte-array>
<boolean name="Shared" value="true" />
<string name="DefaultGwMacAddress">10:20:30:40:50:60</string>
<int name="NumAssociation" value="7" />
<int name="CreatorUid" value="1000" />
<string name="CreatorName">android.uid.system:1000</string>
<string name="CreationTime">time=07-01 22:10:05.120</string>
<string name="RandomizedMacAddress">02:00:00:00:00:00</string>
</WifiConfiguration>
<NetworkStatus>
<string name="SelectionStatus">NETWORK_SELECTION_ENABLED</string>
<boolean name="HasEverConnected" value="true" />
</NetworkStatus>
<IpConfiguration>
<string name="IpAssignment">DHCP</string>
<string name="ProxySettings">NONE</string>
</IpConfiguration>
</Network>
<Network>
<WifiConfiguration>
<string name="ConfigKey">&quot;مقهى الميناء&quot;SAE</string>
<string name="SSID">&quot;مقهى الميناء&quot;</string>
<string name="PreSharedKey">&quot;x&quot;</string>
<byte-array name="AllowedKeyMgmt" num="2">0001</byte-array>
<long name="semCreationTime" value="1690000000000" />
<long name="semUpdateTime" value="1695000000000" />
<long name="LastConnectedTime" value="1700000123456" />
</WifiConfiguration>
<NetworkStatus>
<boolean name="HasEverConnected" value="true" />
</NetworkStatus>
</Network>
</NetworkList>
<DeletedEphemeralSSIDList>
<map name="SSIDList" />
</DeletedEphemeralSSIDList>
</WifiConfigStoreData>
"""

# wpa_supplicant.conf as Android 4-7 kept it (/data/misc/wifi): the layout of hostap's wpa_supplicant.conf
# example (network blocks of key=value, quoted strings, unquoted hex) with Android's id_str line.
WPA_SUPPLICANT_CONF = """ctrl_interface=/data/misc/wifi/sockets
disable_scan_offload=1
update_config=1
device_name=hammerhead
manufacturer=LGE
model_name=Nexus 5
serial_number=0123456789abcdef
p2p_disabled=1

network={
\tssid="Hotel Sabratha"
\tpsk="passengers123"
\tkey_mgmt=WPA-PSK
\tpriority=3
\tid_str="%7B%22creatorUid%22%3A%221000%22%2C%22configKey%22%3A%22%5C%22Hotel+Sabratha%5C%22WPA_PSK%22%7D"
}

network={
\tssid=4d617273612057657374
\tbssid=aa:bb:cc:dd:ee:ff
\tkey_mgmt=NONE
\tscan_ssid=1
\tpriority=1
}
"""

# --- packages.xml / packages.list -----------------------------------------------------------------
# Attribute layout and types of AOSP frameworks/base services/core/java/com/android/server/pm/Settings.java
# writePackageLPr (text XML up to Android 11: it/ut/ft hex milliseconds, <perms><item granted>)
PACKAGES_XML = """<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<packages>
    <version sdkVersion="29" databaseVersion="3" fingerprint="google/coral/coral:10/QQ3A.200805.001/6578210:user/release-keys" />
    <permission-trees />
    <permissions>
        <item name="android.permission.READ_SMS" package="android" protection="1" />
    </permissions>
    <package name="com.whatsapp" codePath="/data/app/com.whatsapp-Xk2Q7w==" nativeLibraryPath="/data/app/com.whatsapp-Xk2Q7w==/lib" primaryCpuAbi="arm64-v8a" publicFlags="810073668" privateFlags="0" ft="174876e8000" it="17233629c00" ut="174876e8000" version="201292004" userId="10153" installer="com.android.vending">
        <sigs count="1" schemeVersion="3">
            <cert index="11" key="308201" />
        </sigs>
        <perms>
            <item name="android.permission.INTERNET" granted="true" flags="0" />
            <item name="android.permission.READ_CONTACTS" granted="false" flags="0" />
            <item name="android.permission.RECEIVE_SMS" granted="true" flags="0" />
        </perms>
        <proper-signing-keyset identifier="20" />
    </package>
    <package name="org.telegram.messenger.web" codePath="/data/app/org.telegram.messenger.web-1" publicFlags="940097092" privateFlags="0" ft="1802ba9f400" it="1802ba9f400" ut="1802ba9f400" version="24519" userId="10201" installer="com.android.packageinstaller" installInitiator="com.android.chrome">
        <perms>
            <item name="android.permission.INTERNET" granted="true" flags="0" />
        </perms>
    </package>
    <package name="com.android.providers.telephony" codePath="/system/priv-app/TelephonyProvider" publicFlags="684244549" privateFlags="8" ft="11e8f7d4c00" it="11e8f7d4c00" ut="11e8f7d4c00" version="29" sharedUserId="1001" />
    <updated-package name="com.android.providers.telephony" codePath="/system/priv-app/TelephonyProvider" ft="11e8f7d4c00" it="11e8f7d4c00" ut="11e8f7d4c00" version="28" sharedUserId="1001" />
    <shared-user name="android.uid.phone" userId="1001" />
</packages>
"""
# packages.list: one line per app, "name uid debuggable dataDir seinfo gids profileable versionCode"
# (AOSP frameworks/native cmds/installd and Settings.writePackageListLPr, Android 10+ with version code)
PACKAGES_LIST = """com.whatsapp 10153 0 /data/user/0/com.whatsapp default:targetSdkVersion=29 3003 0 201292004
org.telegram.messenger.web 10201 0 /data/user/0/org.telegram.messenger.web default:targetSdkVersion=29 3003 0 24519
com.android.providers.telephony 1001 0 /data/user_de/0/com.android.providers.telephony platform:privapp:targetSdkVersion=29 3002,3003,1065 0 29
com.example.sideloaded 10250 1 /data/user/0/com.example.sideloaded default:targetSdkVersion=28 none 1 7
"""

# --- build.prop -----------------------------------------------------------------------------------
# The layout of a real system/build.prop (100Daisy/android_dump_deen_system, motorola one, Android 9):
# `import` lines, "# begin build properties", ro.build.* and ro.product.*, no ro.build.fingerprint (Android 9
# writes the thumbprint), then the device's system.prop. Values changed. vendor/build.prop: Android 10+ keys.
SYSTEM_BUILD_PROP = """
#
# PRODUCT_OEM_PROPERTIES
#
import /oem/oem.prop ro.product.model
import /oem/oem.prop ro.build.id
# begin build properties
# autogenerated by buildinfo.sh
ro.build.id=PPKS29.68-16-36-2
ro.build.display.id=PPKS29.68-16-36-2 release-keys
ro.build.version.incremental=31659
ro.build.version.sdk=28
ro.build.version.release=9
ro.build.version.security_patch=2019-05-01
ro.build.date=Thu May  2 05:34:49 CDT 2019
ro.build.date.utc=1556793289
ro.build.type=user
ro.build.tags=release-keys
ro.product.model=motorola one
ro.product.brand=motorola
ro.product.name=deen_retail
ro.product.device=deen_sprout
# ro.product.cpu.abi and ro.product.cpu.abi2 are obsolete,
ro.product.cpu.abi=arm64-v8a
ro.product.manufacturer=motorola
ro.product.locale=en-US
# Do not try to parse description, fingerprint, or thumbprint
ro.build.thumbprint=9/PPKS29.68-16-36-2/31659:user/release-keys
# end build properties
rild.libpath=/vendor/lib64/libril-qc-qmi-1.so
dalvik.vm.heapsize=36m
"""
VENDOR_BUILD_PROP = """# begin common build properties
ro.vendor.build.date.utc=1556793000
ro.vendor.build.fingerprint=motorola/deen_retail/deen_sprout:9/PPKS29.68-16-36-2/31659:user/release-keys
ro.vendor.build.security_patch=2019-05-01
ro.product.vendor.model=motorola one
ro.product.vendor.manufacturer=motorola
# end common build properties
"""


# --- builders -------------------------------------------------------------------------------------
def sqlite_db(path: Path, schema: str, rows: list[tuple[str, tuple[object, ...]]]) -> Path:
    """A database with `schema`, filled with (INSERT sql, values); written in rollback-journal mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(schema)
    for sql, values in rows:
        db.execute(sql, values)
    db.commit()
    db.close()
    return path


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# --- Android Binary XML ---------------------------------------------------------------------------
# A writer for test files, after AOSP frameworks/base core/java/com/android/internal/util/
# BinaryXmlSerializer.java and FastDataOutput.java (writeUTF, writeInternedUTF). test_android_sys_abx
# checks it writes CCL's ABX test files byte for byte, as their Java port of that serialiser did.
ATTR_TYPES = {"string": 2, "interned": 3, "byteshex": 4, "base64": 5, "int": 6, "inthex": 7, "long": 8,
              "longhex": 9, "float": 10, "double": 11, "true": 12, "false": 13}


class AbxWriter:
    def __init__(self) -> None:
        self.out = bytearray(b"ABX\x00")
        self.refs: dict[str, int] = {}

    def _utf(self, text: str) -> None:
        raw = text.encode("utf-8")
        self.out += struct.pack(">H", len(raw)) + raw

    def _interned(self, text: str) -> None:
        if text in self.refs:
            self.out += struct.pack(">H", self.refs[text])
        else:
            self.out += b"\xff\xff"
            self._utf(text)
            self.refs[text] = len(self.refs)

    def start_document(self) -> None:
        self.out.append(0x10)

    def end_document(self) -> None:
        self.out.append(0x11)

    def start_tag(self, name: str) -> None:
        self.out.append(0x32)
        self._interned(name)

    def end_tag(self, name: str) -> None:
        self.out.append(0x33)
        self._interned(name)

    def text(self, text: str) -> None:
        self.out.append(0x24)
        self._utf(text)

    def attribute(self, name: str, value: str, kind: str = "string") -> None:
        code = ATTR_TYPES[kind]
        if kind in ("true", "false"):
            self.out.append(code << 4 | 15)
            self._interned(name)
            return
        self.out.append(code << 4 | 15)
        self._interned(name)
        if kind == "string":
            self._utf(value)
        elif kind == "interned":
            self._interned(value)
        elif kind in ("byteshex", "base64"):
            raw = bytes.fromhex(value) if kind == "byteshex" else base64.b64decode(value)
            self.out += struct.pack(">H", len(raw)) + raw
        elif kind == "int":
            self.out += struct.pack(">i", int(value))
        elif kind == "inthex":
            self.out += struct.pack(">i", int(value, 16))
        elif kind == "long":
            self.out += struct.pack(">q", int(value))
        elif kind == "longhex":
            self.out += struct.pack(">q", int(value, 16))
        elif kind == "float":
            self.out += struct.pack(">f", float(value))
        elif kind == "double":
            self.out += struct.pack(">d", float(value))


def abx_from_xml(text: str, kind_of: Callable[[str, str, str], str], whitespace: bool = False) -> bytes:
    """`text` XML written as ABX: `kind_of(tag, attribute, value)` names each attribute's type. With
    `whitespace`, layout text between elements is written as TEXT events (as CCL's converter does)."""
    root = ET.fromstring(text)
    writer = AbxWriter()
    writer.start_document()

    def emit(element: ET.Element) -> None:
        writer.start_tag(element.tag)
        for name, value in element.attrib.items():
            kind = kind_of(element.tag, name, value)
            writer.attribute(name, value, "true" if kind == "bool" and value == "true" else
                             "false" if kind == "bool" else kind)
        if element.text and (whitespace or element.text.strip()):
            writer.text(element.text)
        for child in element:
            emit(child)
            if child.tail and (whitespace or child.tail.strip()):
                writer.text(child.tail)
        writer.end_tag(element.tag)

    emit(root)
    writer.end_document()
    return bytes(writer.out)


# Android 14 writes packages.xml as ABX with these attribute types (Settings.writePackageLPr: publicFlags,
# privateFlags, userId, targetSdkVersion, packageSource, installerUid, appMetadataSource as int; ft/ut/
# loadingCompletedTime as long hex; version as long; loadingProgress as float; booleans as booleans).
PACKAGES_TYPES = {"publicFlags": "int", "privateFlags": "int", "userId": "int", "sharedUserId": "int",
                  "targetSdkVersion": "int", "packageSource": "int", "installerUid": "int",
                  "appMetadataSource": "int", "ft": "longhex", "ut": "longhex", "it": "longhex",
                  "loadingCompletedTime": "longhex", "version": "long", "loadingProgress": "float",
                  "scannedAsStoppedSystemApp": "bool", "isSdkLibrary": "bool", "granted": "bool", "flags": "inthex",
                  "identifier": "long", "sdkVersion": "int", "databaseVersion": "int"}

PACKAGES_XML_A14 = """<packages>
<version sdkVersion="34" databaseVersion="3" fingerprint="google/lynx/lynx:14/UQ1A.240205.002/11224170:user/release-keys" />
<package name="com.whatsapp" codePath="/data/app/~~Q1w2e3==/com.whatsapp-R5t6y7==" primaryCpuAbi="arm64-v8a" publicFlags="810073668" privateFlags="-1946157056" ft="19077fd3000" ut="19077fd3000" version="241012003" targetSdkVersion="34" scannedAsStoppedSystemApp="false" userId="10214" isSdkLibrary="false" installer="com.android.vending" installerUid="10098" packageSource="0" installInitiator="com.android.vending" loadingProgress="1.0" loadingCompletedTime="0" domainSetId="6d1f47e2-8b0a-4c39-9c55-1e7f2b3a4c5d" appMetadataSource="0">
<perms>
<item name="android.permission.RECORD_AUDIO" granted="true" flags="0" />
</perms>
<proper-signing-keyset identifier="31" />
</package>
<package name="com.example.تطبيق" codePath="/data/app/~~Z9x8c7==/com.example.app-V6b5n4==" publicFlags="944291396" privateFlags="0" ft="18e23f14c00" ut="18e23f14c00" version="3" targetSdkVersion="33" scannedAsStoppedSystemApp="false" userId="10233" isSdkLibrary="false" packageSource="3" loadingProgress="1.0" loadingCompletedTime="0" domainSetId="0b4c6a2e-5d3f-4e1a-8f7b-9c0d1e2f3a4b" appMetadataSource="0" />
</packages>
"""


def packages_abx() -> bytes:
    return abx_from_xml(PACKAGES_XML_A14, lambda tag, name, value: PACKAGES_TYPES.get(name, "string"))


# users/<id>/package-restrictions.xml (Settings.writePackageRestrictionsLPr): Android 14 keeps each
# user's first install time there (ATTR_FIRST_INSTALL_TIME "first-install-time", long hex), with
# ceDataInode (long), inst (bool), install-reason (int).
PACKAGE_RESTRICTIONS_A14 = """<package-restrictions>
<pkg name="com.whatsapp" ceDataInode="9175234" first-install-time="17233629c00" install-reason="4" />
<pkg name="com.example.تطبيق" ceDataInode="9180021" first-install-time="18e23f14c00" />
<preferred-activities />
<persistent-preferred-activities />
<crossProfile-intent-filters />
<default-apps />
</package-restrictions>
"""
RESTRICTIONS_TYPES = {"ceDataInode": "long", "first-install-time": "longhex", "install-reason": "int", "inst": "bool"}


def package_restrictions_abx(text: str = PACKAGE_RESTRICTIONS_A14) -> bytes:
    return abx_from_xml(text, lambda tag, name, value: RESTRICTIONS_TYPES.get(name, "string"))


# --- running the CLI ------------------------------------------------------------------------------
def jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def parse(cli: Any, case_dir: Path, source: Path, exhibit: str) -> Any:
    """`dalil parse SOURCE --exhibit X --no-yara` into the case (must exit 0)."""
    return cli("parse", source, "--exhibit", exhibit, "--case", case_dir, "--no-yara")


def records(cli: Any, case_dir: Path, kind: str, exhibit: str | None = None) -> list[dict[str, Any]]:
    """`dalil records --kind KIND --format jsonl` as dicts."""
    extra = ["--exhibit", exhibit] if exhibit else []
    return jsonl(cli("records", "--case", case_dir, "--kind", kind, "--format", "jsonl", *extra))


def runs(cli: Any, case_dir: Path, exhibit: str | None = None) -> list[dict[str, Any]]:
    """`dalil artifacts --format jsonl`: each parser run with its counts, status and warnings."""
    extra = ["--exhibit", exhibit] if exhibit else []
    return jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl", *extra))


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
