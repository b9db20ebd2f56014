// The indicator pre-filter of dalil's text-indicators analyser (not a rule pack: its matches are
// never reported). Literal atoms and anchored regexes only, so it scans at C speed.
rule worth_extracting {
    strings:
        $cc1 = "+218"
        $cc2 = "00218"
        $cc3 = "+216"
        $cc4 = "00216"
        $cc5 = "+212"
        $cc6 = "00212"
        $cc7 = "+20"
        $cc8 = "+39"
        $cc9 = "0039"
        $cc10 = "+356"
        $cc11 = "+34"
        $cc12 = "+33"
        $cc13 = "+49"
        $cc14 = "+44"
        $cc15 = "+90"
        $cc16 = "+971"
        $cc17 = "+249"
        $cc18 = "+251"
        $cc19 = "+234"
        $cc20 = "+233"
        $cc21 = "+227"
        $cc22 = "+235"
        $cc23 = "+223"
        $cc24 = "+222"
        $ly = /\b09[1-5][ .\-]?[0-9]{3}[ .\-]?[0-9]{4}\b/
        $al = "\xd8\xa7\xd9\x84"
        $fi = "\xd9\x81\xd9\x8a"
        $min = "\xd9\x85\xd9\x86"
        $ar_whatsapp = "واتس"
        $ar_telegram = "تلغرام"
        $ar_telegram2 = "تيليجرام"
        $ar_dinar = "دينار"
        $ar_euro = "يورو"
        $digits = /\xd9[\xa0-\xa9]\xd9[\xa0-\xa9]\xd9[\xa0-\xa9]/
        $pdigits = /\xdb[\xb0-\xb9]\xdb[\xb0-\xb9]\xdb[\xb0-\xb9]/
        $l1 = "t.me/"
        $l2 = "wa.me/"
        $l3 = "whatsapp.com"
        $l4 = "telegram.me"
        $l5 = "signal.me/"
        $l6 = "signal.group"
        $money = /[0-9] ?(EUR|USD|LYD|TND|dinar|euro)/ nocase
        $euro = "\xe2\x82\xac"
    condition:
        any of them
}
