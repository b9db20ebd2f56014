// The indicator pre-filter of dalil's text-indicators analyser (not a rule pack: its matches are
// never reported). Literal atoms and anchored regexes only, so it scans at C speed.
// A country code counts only when it starts a number: not inside a longer digit run ("20021231"),
// not after a letter or '+' ("U+0039", "C++20", base64), and followed by a digit.
rule worth_extracting {
    strings:
        $cc1 = /(^|[^0-9A-Za-z+])\+218[ .\-()]{0,2}[0-9]/
        $cc2 = /(^|[^0-9A-Za-z+])00218[ .\-()]{0,2}[0-9]/
        $cc3 = /(^|[^0-9A-Za-z+])\+216[ .\-()]{0,2}[0-9]/
        $cc4 = /(^|[^0-9A-Za-z+])00216[ .\-()]{0,2}[0-9]/
        $cc5 = /(^|[^0-9A-Za-z+])\+212[ .\-()]{0,2}[0-9]/
        $cc6 = /(^|[^0-9A-Za-z+])00212[ .\-()]{0,2}[0-9]/
        $cc7 = /(^|[^0-9A-Za-z+])\+20[ .\-()]{0,2}[0-9]/
        $cc8 = /(^|[^0-9A-Za-z+])\+39[ .\-()]{0,2}[0-9]/
        $cc9 = /(^|[^0-9A-Za-z+])0039[ .\-()]{0,2}[0-9]/
        $cc10 = /(^|[^0-9A-Za-z+])\+356[ .\-()]{0,2}[0-9]/
        $cc11 = /(^|[^0-9A-Za-z+])\+34[ .\-()]{0,2}[0-9]/
        $cc12 = /(^|[^0-9A-Za-z+])\+33[ .\-()]{0,2}[0-9]/
        $cc13 = /(^|[^0-9A-Za-z+])\+49[ .\-()]{0,2}[0-9]/
        $cc14 = /(^|[^0-9A-Za-z+])\+44[ .\-()]{0,2}[0-9]/
        $cc15 = /(^|[^0-9A-Za-z+])\+90[ .\-()]{0,2}[0-9]/
        $cc16 = /(^|[^0-9A-Za-z+])\+971[ .\-()]{0,2}[0-9]/
        $cc17 = /(^|[^0-9A-Za-z+])\+249[ .\-()]{0,2}[0-9]/
        $cc18 = /(^|[^0-9A-Za-z+])\+251[ .\-()]{0,2}[0-9]/
        $cc19 = /(^|[^0-9A-Za-z+])\+234[ .\-()]{0,2}[0-9]/
        $cc20 = /(^|[^0-9A-Za-z+])\+233[ .\-()]{0,2}[0-9]/
        $cc21 = /(^|[^0-9A-Za-z+])\+227[ .\-()]{0,2}[0-9]/
        $cc22 = /(^|[^0-9A-Za-z+])\+235[ .\-()]{0,2}[0-9]/
        $cc23 = /(^|[^0-9A-Za-z+])\+223[ .\-()]{0,2}[0-9]/
        $cc24 = /(^|[^0-9A-Za-z+])\+222[ .\-()]{0,2}[0-9]/
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
        $money = /[0-9] ?(EUR|USD|LYD|TND|dinars?|euros?)\b/ nocase
        $euro = "\xe2\x82\xac"
        $usdt = "USDT" nocase
        $trc20 = "TRC20" nocase
        $trc20b = "TRC-20" nocase
        $erc20 = "ERC20" nocase
        $bitcoin = "bitcoin" nocase
        $iban = "IBAN" nocase
        $ar_wallet = "محفظة"
    condition:
        any of them
}
