/*
 * Benchmark pack for benchmarks/parse_vs_tsk.py: nine rules in the style of public packs (webshells,
 * keys, scripts, executables, documents), two of them with a regular expression that holds no
 * literal atom (YARA warns "may slow down scanning" and runs them at every byte), as real packs do.
 * Together with the shipped packs (rules/smuggling.yar, rules/eicar.yar): 18 rules.
 */

rule Webshell_PHP_Eval
{
    meta:
        description = "PHP code evaluating decoded or request input (webshell idiom)"
        author = "Dalil project (benchmark)"
        reference = "https://github.com/Neo23x0/signature-base"
        severity = "medium"
    strings:
        $e1 = "eval(base64_decode(" nocase
        $e2 = "eval(gzinflate(" nocase
        $e3 = "eval($_POST[" nocase
        $e4 = "assert($_REQUEST[" nocase
        $e5 = "passthru($_GET[" nocase
    condition:
        any of them
}

rule Private_Key_Material
{
    meta:
        description = "PEM or OpenSSH private key block"
        author = "Dalil project (benchmark)"
        reference = "https://www.rfc-editor.org/rfc/rfc7468"
        severity = "medium"
    strings:
        $k1 = "-----BEGIN RSA PRIVATE KEY-----"
        $k2 = "-----BEGIN OPENSSH PRIVATE KEY-----"
        $k3 = "-----BEGIN PRIVATE KEY-----"
        $k4 = "-----BEGIN EC PRIVATE KEY-----"
        $k5 = "-----BEGIN DSA PRIVATE KEY-----"
    condition:
        any of them
}

rule PowerShell_Download_Cradle
{
    meta:
        description = "PowerShell download-and-run idioms"
        author = "Dalil project (benchmark)"
        reference = "https://attack.mitre.org/techniques/T1059/001/"
        severity = "medium"
    strings:
        $p1 = "IEX (New-Object Net.WebClient)" nocase
        $p2 = "DownloadString(" nocase
        $p3 = "-EncodedCommand" nocase
        $p4 = "Invoke-Expression" nocase
        $p5 = "FromBase64String(" nocase
    condition:
        2 of them
}

rule Windows_Executable
{
    meta:
        description = "Windows PE executable (MZ header with a PE signature)"
        author = "Dalil project (benchmark)"
        reference = "https://learn.microsoft.com/en-us/windows/win32/debug/pe-format"
        severity = "info"
    strings:
        $dos = "This program cannot be run in DOS mode"
    condition:
        uint16(0) == 0x5A4D and $dos
}

rule Office_Macro_Document
{
    meta:
        description = "OLE2 Office document carrying a VBA project"
        author = "Dalil project (benchmark)"
        reference = "https://github.com/Yara-Rules/rules"
        severity = "low"
    strings:
        $vba1 = "VBA_PROJECT" wide ascii
        $vba2 = "Attribute VB_Name" nocase
        $auto = "AutoOpen" nocase
    condition:
        uint32(0) == 0xE011CFD0 and ($vba1 or $vba2) and $auto
}

rule Onion_Address
{
    meta:
        description = "Tor v3 onion service address"
        author = "Dalil project (benchmark)"
        reference = "https://spec.torproject.org/rend-spec/encoding-onion-addresses.html"
        severity = "low"
    strings:
        $onion = /\b[a-z2-7]{56}\.onion\b/
    condition:
        $onion
}

rule Email_Address_Harvest
{
    meta:
        description = "Ten or more e-mail addresses (a harvested list)"
        author = "Dalil project (benchmark)"
        reference = "https://www.rfc-editor.org/rfc/rfc5322"
        severity = "info"
    strings:
        $mail = /[A-Za-z0-9._%+\-]{1,32}@[A-Za-z0-9\-]{1,32}\.(com|net|org)\b/
    condition:
        #mail >= 10
}

rule Hex_Secret_256
{
    meta:
        description = "A 64-digit hexadecimal run (private key, seed or token); no literal atom"
        author = "Dalil project (benchmark)"
        reference = "https://en.bitcoin.it/wiki/Private_key"
        severity = "info"
    strings:
        $hex = /[0-9a-f]{64}/
    condition:
        $hex
}

rule Payment_Card_Number
{
    meta:
        description = "Sixteen digits in four groups (a payment card number); no literal atom"
        author = "Dalil project (benchmark)"
        reference = "https://www.iso.org/standard/70484.html"
        severity = "low"
    strings:
        $card = /\b[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}\b/
    condition:
        $card
}
