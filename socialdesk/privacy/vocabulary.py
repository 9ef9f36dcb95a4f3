"""Words customers write around personal data, in Italian and English.

A vocabulary, not platform knowledge: "facebook", "messenger", "x" or "twitter" appear
here because customers write "via Facebook 3 volte", not because the detector knows any
platform. The detector's families read these lists to decide where a code is named, where
a street starts, and what only looks like personal data.
"""

from __future__ import annotations

# Words that announce a look-alike (version, flight, train, tracking, price, time):
# the matching shapes are in `lookalikes.WORD_BLOCK_RE`.
BLOCK_TRIGGERS = frozenset({
    "ios", "ipados", "android", "windows", "macos", "versione", "version", "ver", "firmware",
    "build", "release", "volo", "voli", "flight", "treno", "train", "frecciarossa",
    "frecciargento", "frecciabianca", "italo", "intercity", "regionale", "eurostar", "gate",
    "posto", "seat", "carrozza", "coach", "tracking", "track", "spedizione", "tracciamento",
    "ldv", "awb", "sku", "articolo", "art", "modello", "model", "seriale", "serial", "s",
    "imei", "lotto", "batch", "ean", "asin", "isbn", "cod", "codice", "product", "part",
    "eur", "usd", "gbp", "ore", "alle", "h", "at", "promo", "coupon", "voucher", "discount",
    "gift", "buono",
})
# Words that name a code (partita IVA, CRO, TRN, booking, order ...): `context_codes.CONTEXT_RE`.
CONTEXT_TRIGGERS = frozenset({
    "p", "piva", "partita", "vat", "codice", "c", "cf", "tax", "fiscal", "cro", "t", "trn",
    "transaction", "prenotazione", "booking", "reservation", "pnr", "confirmation", "ordine",
    "ordinazione", "pratica", "segnalazione", "reclamo", "ticket", "richiesta", "contratto",
    "numero", "cod", "id", "utenza", "conto", "transazione", "order", "case", "claim",
    "account", "acct", "bagaglio", "baggage", "luggage", "customer", "member", "membership",
    "complaint", "request",
    "reference", "ref",
})
BOOKING_TRIGGERS = frozenset({"prenotazione", "booking", "reservation", "pnr", "confirmation"})
BOOKING_HINTS = ("prenot", "book", "reserv", "pnr", "confirm")
# Street words that start an Italian address, and street types that end an English one.
STREET_IT_TRIGGERS = frozenset({
    "via", "viale", "v", "vle", "piazza", "p", "pza", "piazzale", "piazzetta", "corso", "c",
    "largo", "l", "strada", "str", "vicolo", "vic", "contrada", "borgo", "lungomare",
    "lungotevere", "località", "loc", "frazione", "fraz",
})
# Words that stand for "@" in an address spelled out to dodge bots, and the mail providers
# that make a plain "at" one ("mario.rossi at gmail dot com").
SPELLED_AT_TRIGGERS = frozenset({"at", "chiocciola"})
MAIL_PROVIDERS = frozenset({
    "gmail", "googlemail", "libero", "yahoo", "hotmail", "outlook", "live", "msn", "icloud",
    "me", "aol", "tiscali", "alice", "virgilio", "tin", "fastwebnet", "email", "pec",
    "legalmail", "proton", "protonmail", "gmx", "inwind", "iol",
})
# Words that name a postcode: "my postcode is LS8 2HP", "zip 10001", "CAP 20121".
POSTCODE_TRIGGERS = frozenset({"postcode", "post", "postal", "zip", "cap"})
STREET_EN_TRIGGERS = frozenset({
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard",
    "blvd", "way", "close", "court", "ct", "place", "pl", "terrace", "crescent", "square", "sq",
})
# Words that end a context walk: the code that follows is not personal data.
CONTEXT_STOP_WORDS = frozenset({
    "tracking", "spedizione", "volo", "flight", "treno", "train", "sku", "articolo",
    "prodotto", "product", "modello", "model", "prezzo", "price", "importo", "amount",
    "totale", "total", "data", "date", "ore", "alle", "versione", "version",
})
# Capitalised words after "via" that name a channel, not a street ("via Facebook 3 volte").
ADDRESS_NAME_STOP = frozenset({
    "facebook", "messenger", "twitter", "instagram", "whatsapp", "telegram", "email", "mail",
    "e-mail", "pec", "app", "chat", "sms", "dm", "internet", "web", "google", "amazon",
    "paypal", "telefono", "phone", "x", "posta", "fax", "skype", "teams", "zoom", "the",
})

