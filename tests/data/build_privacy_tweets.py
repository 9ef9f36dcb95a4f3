# ruff: noqa: E501  (one template per line reads better than wrapped strings)
"""Build `privacy_tweets.jsonl`: customer tweets and replies where detectors go wrong.

Run `python tests/data/build_privacy_tweets.py` after editing; a test checks that the
committed JSONL is what this script writes (values are drawn from a seeded generator).

Where the support-post set (`privacy_posts.jsonl`) has one hand-written post per row, this
set renders each template several times with fresh values, so a rule is scored on many
shapes of one kind, not on one example. It stresses the kinds that separate a customer's
data from what only looks like it:

* postal addresses: the customer's home or delivery address (Italian abbreviations
  ``v.le``, ``p.zza``, ``l.go``, ``c.so``, ``n. 47 bis``, lower-case street names; UK
  ``Flat 12``, postcodes; US apartments and ZIP codes) against a shop's, branch's or
  service centre's own address ("il negozio di via …", "the store at …"), which is not;
* digits inside a longer code (promo codes, an IBAN quoted as fake, tracking codes),
  which are not a phone number;
* a bare code sent in answer to the brand's question ("what is your order number?" →
  "it's 112-4563"): personal data, found only with the brand's previous message, which
  each such row carries as ``context``; the same code with no question, or a question
  answered without a code, is not;
* numbers that fail their check digit (IBAN, card, codice fiscale): never flagged.

Gold offsets are computed from where each value lands; values are checked with
phonenumbers and python-stdnum, never with socialdesk's detector.
"""

from __future__ import annotations

import importlib.util
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

OUTPUT = Path(__file__).with_name("privacy_tweets.jsonl")
SEED = 20261205
RENDERINGS = 4  # each template is rendered this many times, with fresh values
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


def _posts_builder() -> ModuleType:
    """The support-post builder, for its check-digit-exact value generators."""
    path = Path(__file__).with_name("build_privacy_posts.py")
    spec = importlib.util.spec_from_file_location("build_privacy_posts", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


POSTS = _posts_builder()

# --------------------------------------------------------------------------------------
# Templates. A placeholder names a generator below; its kind (or None) is in KINDS.

HOME_ADDRESS_IT = [
    "@SpeedyPacchi il pacco va consegnato in {street_it}, grazie",
    "@ShopNow abito in {street_it_cap}, il corriere dice indirizzo inesistente",
    "@TelcoPiu il tecnico deve venire in {street_it} domani mattina",
    "@SpeedyPacchi indirizzo di consegna: {street_it_cap} (citofono Rossi)",
    "@ShopNow ho cambiato casa, ora sto in {street_it}, aggiornate l'indirizzo",
    "@BancaAzzurra la carta nuova mandatela a {street_it_cap} per favore",
    "@SpeedyPacchi sono in {street_it} da stamattina e non è passato nessuno",
    "@TelcoPiu trasloco: nuovo indirizzo {street_it_cap}, attivate la linea lì",
    "@ShopNow il rider ha lasciato il pacco in {street_it} invece che a casa mia",
    "@SpeedyPacchi ritiro fallito in {street_it}, ripassate dopo le 18",
]
HOME_ADDRESS_EN = [
    "@ParcelGo please deliver to {street_en}, not the depot",
    "@ShipFast my address is {street_en}, the driver went next door",
    "@MobileNet I moved to {street_en}, update my billing",
    "@ParcelGo leave it with the neighbour at {street_en} if I'm out",
    "@ShopNow send the replacement to {street_en} please",
    "@FlyHigh deliver my lost bag to {street_en}, I'm home all day",
    "@ParcelGo redelivery to {street_en} any day after 5pm",
    "@ShipFast courier says no one home at {street_en}, I was in all day!",
    "@ParcelGo my postcode is {postcode_uk} and your site says you don't deliver here??",
    "@ShopNow wrong postcode on my order, it should be {postcode_uk} not what you printed",
]
SHOP_ADDRESS = [
    "@ShopNow il negozio di {shop_street_it} non accetta i resi online, perché?",
    "@TelcoPiu sono andata al punto vendita di {shop_street_it_cap} e mi hanno rimandato a voi",
    "@BancaAzzurra la filiale di {shop_street_it} è chiusa da una settimana",
    "@SpeedyPacchi il deposito di {shop_street_it} non risponde mai al telefono",
    "@TelcoPiu il centro assistenza di {shop_street_it} mi ha tenuto il telefono 3 settimane",
    "@ShopNow nel vostro negozio in {shop_street_it} il prezzo era diverso",
    "@BancaAzzurra allo sportello di {shop_street_it} mi hanno detto di scrivere qui",
    "@ShopNow il punto vendita in {shop_street_it} non ha la taglia, quando arriva?",
    "@ShopNow the store at {shop_street_en} refused my return",
    "@MobileNet your shop on {shop_street_en} told me to call you instead",
    "@BankOfTheWest the branch at {shop_street_en} closed early again today",
    "@ShopNow staff at your store on {shop_street_en} were great, thanks!",
    "@MobileNet the service centre at {shop_street_en} kept my phone for a month",
    "@ParcelGo your depot at {shop_street_en} is never open when the card says",
]
LONG_CODES = [
    "@ShopNow il codice sconto {promo_code} non funziona al checkout",
    "@ShopNow promo code {promo_code} says expired, it's still on your ad",
    "@ShopNow coupon {promo_code} rejected twice",
    "@SpeedyPacchi tracking {tracking_digits} fermo da 4 giorni",
    "@ParcelGo tracking number {tracking_spaced} hasn't moved since Monday",
    "@ShipFast parcel {tracking_letters} stuck in customs",
    "@BancaAzzurra mi hanno mandato un IBAN falso {fake_iban}, è una truffa?",
    "@BancaAzzurra questo IBAN non è valido: {fake_iban_spaced}, cosa devo fare?",
    "@BankOfTheWest a scammer sent me this fake IBAN {fake_iban}, be careful",
    "@ShopNow la gift card {gift_card} risulta già usata",
    "@TelcoPiu codice offerta {promo_code} non applicato in bolletta",
]
FAILED_CHECKS = [
    "@ShopNow the card {bad_card_spaced} is rejected but I typed it right",
    "@BancaAzzurra il sito dice carta non valida: {bad_card}",
    "@BancaAzzurra l'IBAN {bad_iban_spaced} mi dà errore, perché?",
    "@TelcoPiu il vostro form rifiuta il codice {bad_cf}",
    "@BancaAzzurra l'app dice codice fiscale errato: {bad_cf}",
]
# A reply to the brand's question: (brand's previous message, customer's reply).
ANSWERS = [
    ("What is your order number?", "@ShopNow it's {order_dashed}"),
    ("Could you send us your order number, please?", "@ShopNow {order_digits}"),
    ("Can you share your booking reference?", "@FlyHigh {booking}"),
    ("Please DM us your booking reference and we'll look into it.", "@FlyHigh sure: {booking}"),
    ("Ci indichi il numero d'ordine, per favore?", "@ShopNow eccolo {order_digits}"),
    ("Ci può scrivere il codice della prenotazione?", "@VolaItalia {booking} grazie"),
    ("Ci mandi il numero della pratica?", "@TelcoPiu {order_dashed}, aperta a marzo"),
    ("What's your account number?", "@MobileNet {order_digits} thanks"),
    ("Ci indica il suo codice cliente?", "@TelcoPiu certo {customer_code}"),
    ("What's the ticket number we gave you?", "@ShopNow {customer_code}, still nothing"),
]
# The same bare codes with no question asked: nothing says they are the customer's.
NO_QUESTION = [
    ("Thanks for your patience, we're on it!", "@ShopNow ok {order_dashed} minutes later still nothing lol"),
    ("Sorry to hear that. We'll check with the courier.", "@ShopNow {order_digits} people in the queue ahead of me"),
    ("Grazie per la segnalazione!", "@ShopNow figurati, {promo_code} però non va"),
    ("We're sorry about the delay.", "@FlyHigh flight {flight} again, 3 hours late"),
]
# A question answered without a code: nothing to flag.
ANSWERED_WITHOUT_CODE = [
    ("What is your order number?", "@ShopNow I don't have it, I paid €49,99 on 12/03"),
    ("Could you send us your booking reference?", "@FlyHigh it was for 2 adults on the 10:45 to JFK"),
    ("Ci indica il numero d'ordine?", "@ShopNow non lo trovo, era un ordine da 3 pezzi del 02/04"),
    ("Can you share your order number?", "@ShopNow I ordered 3 items, 2 arrived"),
]
MIXED = [
    "@SpeedyPacchi sono a {street_it_cap}, tel {mobile_it}",
    "@ParcelGo {street_en}, call me on {phone_uk} when outside",
    "@ShopNow consegnate in {street_it}, mail {email}",
    "@ShopNow il negozio di {shop_street_it} dice di chiamarvi, il mio numero è {mobile_it_intl}",
    "@ShopNow the store at {shop_street_en} can't find order {order_named}",
    "@BancaAzzurra il codice promo {promo_code} non va, chiamatemi al {mobile_it}",
]

# Everyday customer tweets with the other kinds, written the way people type on a phone.
TWEETS = [
    "@TelcoPiu ancora senza linea!!! 😡 richiamatemi al {mobile_it_dashed} #disservizio",
    "@ShopNow DM'd you twice, just call {phone_uk_intl} pls 🙏",
    "@BancaAzzurra URGENTE carta {card_visa_spaced} clonata, bloccatela!!!",
    "@ShopNow rimborso su IBAN {iban_it_spaced} grazie, sono 3 settimane #vergogna",
    "@TelcoPiu CF {cf} ... perché non risulto titolare? https://t.co/Ab3XyZ12Qp",
    "@ShopNow mail: {email} — nessuna conferma d'ordine",
    "@MobileNet still no signal, text me on {phone_us} 📵",
    "@BancaAzzurra bonifico con CRO {cro} ancora non arrivato 🙄",
    "@ShopNow P.IVA {piva} fattura sbagliata, 2a volta",
    "@FlyHigh lost bag, call {phone_uk} or email {email}",
    "@ShopNow scrivetemi a {spelled_email}, qui non rispondete",
    "@ParcelGo no bots pls, email me: {spelled_email}",
]
# Hand-written hard cases: [[TYPE|value]] marks personal data; no other markup.
HARD = [
    ("@SpeedyPacchi consegnate in [[ADDRESS|v.le Monza n. 47 bis]], non al civico 47!", None),
    ("@ParcelGo it's [[ADDRESS|Flat 12, 3 Mill Road]], not flat 21", None),
    ("@ShopNow abito in [[ADDRESS|p.zza San Babila 4/A, 20122 Milano]] (MI)", None),
    ("@ShopNow my zip is [[ADDRESS|10001]], your site says invalid", None),
    ("@SpeedyPacchi il CAP è [[ADDRESS|20121]] non 20122!", None),
    ("@ShopNow il negozio di via Torino 21 a Milano mi ha detto di scrivervi", None),
    ("@ShopNow went to your store on 350 Fifth Avenue, no stock again", None),
    ("@BancaAzzurra la filiale in piazza Cordusio 2 apre alle 8:30?", None),
    ("@ShopNow vado via presto alle 8, lasciatelo al portiere", None),
    ("@TelcoPiu via mail 3 volte e via chat 2 volte, nessuna risposta", None),
    ("@ShopNow codice sconto WELCOME3471234567 non funziona", None),
    ("@ShopNow coupon 3471234567 expired??", None),
    ("@ParcelGo tracking 0034 0434 1612 3456 78 still not moving", None),
    ("@BancaAzzurra mi scrivono da IT00 X000 0000 0000 0000 0000 000 è una truffa", None),
    ("@ShopNow it's [[REFERENCE|112-4563]]", "What is your order number?"),
    ("@ShopNow [[REFERENCE|4407731950226]] thanks", "Please send us your order number and we'll check."),
    ("@VolaItalia [[REFERENCE|K7QZP2]]", "Ci può indicare il codice di prenotazione?"),
    ("@ShopNow ecco: [[REFERENCE|A-99812]] e il mio cell è [[PHONE|347 123 4567]]", "Ci scrive il numero dell'ordine?"),
    ("@ShopNow 112-4563 people waiting in this queue lol", None),
    ("@ShopNow #ordine4471203 #ritardo", "Ci indica il numero d'ordine?"),
    ("@ShopNow paid €49,99 on 12/03, that's all I have", "What's your order number?"),
    ("@FlyHigh FR8123 is my flight, booking was made by my agent", "Can you share your booking reference?"),
    ("@ShopNow the same TV is cheaper if you look at amazon.it", None),
    ("@ShopNow reach me at outlook.com? no, I'll call instead", None),
    ("@ShopNow mail: [[EMAIL|giulia.b[at]libero.it]]", None),
]

# --------------------------------------------------------------------------------------
# Values.

STREET_IT_WORDS = ("via", "Via", "v.le", "V.le", "viale", "p.zza", "P.zza", "piazza", "l.go", "L.go", "largo", "c.so", "C.so", "corso", "p.le", "piazzale", "vicolo")
STREET_IT_NAMES = ("Roma", "Garibaldi", "dei Mille", "Mazzini", "Vittorio Veneto", "della Repubblica", "Cavour", "San Martino", "Dante", "XX Settembre", "Matteotti", "Manzoni", "roma", "garibaldi", "mazzini", "dante alighieri", "De Gasperi", "Gramsci")
CITIES_IT = (("20121", "Milano"), ("00184", "Roma"), ("10122", "Torino"), ("40125", "Bologna"), ("50129", "Firenze"), ("80133", "Napoli"), ("35121", "Padova"))
STREET_EN_NAMES = ("Baker", "Elm", "Oak", "High", "Church", "Mill", "Station", "Victoria", "Kings", "Park", "Maple", "Cedar", "Queen")
STREET_EN_TYPES = ("Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Close", "Way")
CITIES_EN = ("London", "Leeds", "Bristol", "Manchester", "Boston", "Chicago", "Springfield")
UK_POSTCODES = ("NW1 6XE", "LS8 2HP", "BS1 4DJ", "M1 1AE", "SW1A 2AA", "EC2V 7HH", "E14 5AB", "B33 8TH", "CR2 6XH", "DN55 1PT")
US_STATES = ("NY", "MA", "IL", "CA", "TX")


class TweetValues:
    """Seeded generators for the placeholders; check-digit kinds come from the post set."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.posts = POSTS.Values(seed)

    def _pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def _digits(self, n: int, first: str = "123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def _house_number_it(self) -> str:
        number = str(self.rng.randint(1, 250))
        return self._pick((number, number, f"n. {number}", f"{number}/B", f"n. {number} bis", f"{number} bis", f"{number}/a", f"n°{number}"))

    def street_it(self) -> str:
        return f"{self._pick(STREET_IT_WORDS)} {self._pick(STREET_IT_NAMES)} {self._house_number_it()}"

    def street_it_cap(self) -> str:
        cap, city = self.rng.choice(CITIES_IT)
        return f"{self.street_it()}, {cap} {city}"

    def street_en(self) -> str:
        street = f"{self.rng.randint(1, 300)} {self._pick(STREET_EN_NAMES)} {self._pick(STREET_EN_TYPES)}"
        form = self.rng.randrange(5)
        if form == 0:
            return f"Flat {self.rng.randint(1, 40)}, {street}"
        if form == 1:
            return f"{street}, {self._pick(CITIES_EN)} {self._pick(UK_POSTCODES)}"
        if form == 2:
            return f"{street} Apt {self.rng.randint(1, 30)}{self._pick(('', 'B', 'C'))}, {self._pick(CITIES_EN)}, {self._pick(US_STATES)} {self._digits(5)}"
        if form == 3:
            return f"{street}, {self._pick(CITIES_EN)}"
        return street

    def shop_street_it(self) -> str:
        return self.street_it()

    def shop_street_it_cap(self) -> str:
        return self.street_it_cap()

    def shop_street_en(self) -> str:
        return self.street_en()

    def email(self) -> str:
        first, last = self.rng.choice(POSTS.FIRST).lower(), self.rng.choice(POSTS.NAMES).lower()
        domain = self._pick(("gmail.com", "libero.it", "outlook.com"))
        return f"{first}.{last}{self.rng.randint(1, 99)}@{domain}"

    def spelled_email(self) -> str:
        """An address spelled out to dodge bots: "mario.rossi at gmail dot com"."""
        first, last = self.rng.choice(POSTS.FIRST).lower(), self.rng.choice(POSTS.NAMES).lower()
        at = self._pick((" at ", "[at]", " (at) ", " chiocciola "))
        dot = self._pick((".", " dot ", "[dot]", " punto "))
        domain, tld = self.rng.choice((("gmail", "com"), ("libero", "it"), ("outlook", "com")))
        return f"{first}.{last}{at}{domain}{dot}{tld}"

    def postcode_uk(self) -> str:
        return self._pick(UK_POSTCODES)

    def order_dashed(self) -> str:
        return f"{self._digits(3)}-{self._digits(4, string.digits)}"

    def order_digits(self) -> str:
        return self._digits(self.rng.choice((7, 9, 13)))

    def order_named(self) -> str:
        return f"#{self._digits(8)}"

    def booking(self) -> str:
        """An airline PNR: six characters, mostly letters, one or two digits."""
        code = [self.rng.choice(string.ascii_uppercase) for _ in range(6)]
        for position in self.rng.sample(range(1, 6), self.rng.choice((1, 2))):
            code[position] = self.rng.choice(string.digits)
        return "".join(code)

    def customer_code(self) -> str:
        return f"{self._pick(('CL', 'C-', 'INC', 'TK'))}{self._digits(7, string.digits)}"

    def promo_code(self) -> str:
        return f"{self._pick(('SCONTO', 'SAVE', 'WELCOME', 'PROMO', 'BF'))}{self._digits(10, '3')}"

    def tracking_digits(self) -> str:
        return f"{self._pick(('0034', '0035', '0580', '0123'))}{self._digits(16, string.digits)}"

    def tracking_spaced(self) -> str:
        digits = f"{self._pick(('0034', '0580', '0123'))}{self._digits(14, string.digits)}"
        return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))

    def tracking_letters(self) -> str:
        return f"{self._pick(('JJD', 'JVGL', 'CX'))}{self._digits(14, '03')}"

    def fake_iban(self) -> str:
        return self.posts.bad_iban()

    def fake_iban_spaced(self) -> str:
        return self.posts.bad_iban_spaced()

    def gift_card(self) -> str:
        return f"{self._digits(4, '6')} {self._digits(4, string.digits)} {self._digits(4, string.digits)}"

    def flight(self) -> str:
        return f"{self._pick(('AZ', 'FR', 'U2', 'BA'))}{self._digits(4)}"

    def __getattr__(self, name: str) -> Callable[[], str]:
        return getattr(self.posts, name)  # type: ignore[no-any-return]


KINDS: dict[str, str | None] = {
    "street_it": "ADDRESS", "street_it_cap": "ADDRESS", "street_en": "ADDRESS",
    "postcode_uk": "ADDRESS", "shop_street_it": None, "shop_street_it_cap": None,
    "shop_street_en": None, "order_dashed": "REFERENCE", "order_digits": "REFERENCE",
    "order_named": "REFERENCE", "booking": "REFERENCE", "customer_code": "REFERENCE",
    "promo_code": None, "tracking_digits": None, "tracking_spaced": None,
    "tracking_letters": None, "fake_iban": None, "fake_iban_spaced": None, "gift_card": None,
    "flight": None, "bad_card": None, "bad_card_spaced": None, "bad_iban_spaced": None,
    "bad_cf": None, "mobile_it": "PHONE", "mobile_it_intl": "PHONE", "phone_uk": "PHONE",
    "email": "EMAIL", "mobile_it_dashed": "PHONE", "phone_uk_intl": "PHONE",
    "card_visa_spaced": "CARD", "iban_it_spaced": "IBAN", "cf": "IT_FISCAL_CODE",
    "phone_us": "PHONE", "cro": "CRO", "piva": "IT_VAT", "spelled_email": "EMAIL",
}


def render(template: str, values: TweetValues, personal: bool) -> tuple[str, list[dict[str, object]]]:
    """Fill a template; gold entities (offsets computed) for the personal placeholders.

    A bare code (REFERENCE) is personal only where `personal` says the thread asked for it.
    """
    out: list[str] = []
    entities: list[dict[str, object]] = []
    cursor = length = 0
    for match in PLACEHOLDER_RE.finditer(template):
        literal = template[cursor:match.start()]
        out.append(literal)
        length += len(literal)
        name = match.group(1)
        if name not in KINDS:
            raise KeyError(name)
        value = getattr(values, name)()
        kind = KINDS[name]
        if kind is not None and (personal or kind != "REFERENCE"):
            entities.append({"type": kind, "start": length, "end": length + len(value), "value": value})
        out.append(value)
        length += len(value)
        cursor = match.end()
    out.append(template[cursor:])
    text = "".join(out)
    for entity in entities:
        assert text[entity["start"]:entity["end"]] == entity["value"]  # type: ignore[misc]
    return text, entities


GROUPS: tuple[tuple[str, list[str], bool], ...] = (
    ("home-it", HOME_ADDRESS_IT, True),
    ("home-en", HOME_ADDRESS_EN, True),
    ("shop", SHOP_ADDRESS, False),
    ("code", LONG_CODES, False),
    ("check", FAILED_CHECKS, False),
    ("mixed", MIXED, True),
    ("tweet", TWEETS, True),
)
THREADS: tuple[tuple[str, list[tuple[str, str]], bool], ...] = (
    ("answer", ANSWERS, True),
    ("no-question", NO_QUESTION, False),
    ("answered-without-code", ANSWERED_WITHOUT_CODE, False),
)


MARKED_RE = re.compile(r"\[\[([A-Z_]+)\|(.+?)\]\]")


def render_marked(template: str) -> tuple[str, list[dict[str, object]]]:
    """A hand-written row: `[[TYPE|value]]` marks become gold entities."""
    pieces: list[str] = []
    entities: list[dict[str, object]] = []
    cursor = length = 0
    for match in MARKED_RE.finditer(template):
        literal = template[cursor:match.start()]
        pieces += [literal, match.group(2)]
        length += len(literal)
        entities.append({"type": match.group(1), "start": length, "end": length + len(match.group(2)), "value": match.group(2)})
        length += len(match.group(2))
        cursor = match.end()
    pieces.append(template[cursor:])
    return "".join(pieces), entities


def build() -> list[dict[str, object]]:
    values = TweetValues(SEED)
    rows: list[dict[str, object]] = []
    for group, templates, personal in GROUPS:
        for number, template in enumerate(templates, 1):
            for copy in range(1, RENDERINGS + 1):
                text, entities = render(template, values, personal)
                rows.append(_row(f"{group}-{number:02d}-{copy}", text, entities))
    for group, pairs, personal in THREADS:
        for number, (context, template) in enumerate(pairs, 1):
            for copy in range(1, RENDERINGS + 1):
                text, entities = render(template, values, personal)
                rows.append(_row(f"{group}-{number:02d}-{copy}", text, entities, context))
    for number, (template, context) in enumerate(HARD, 1):
        text, entities = render_marked(template)
        rows.append(_row(f"hard-{number:02d}", text, entities, context))
    return rows


def _row(row_id: str, text: str, entities: list[dict[str, object]], context: str | None = None) -> dict[str, object]:
    row: dict[str, object] = {"id": row_id, "kind": "pii" if entities else "lookalike", "text": text}
    if context is not None:
        row["context"] = context
    row["entities"] = entities
    return row


serialise = POSTS.serialise


def main() -> int:
    return int(POSTS.write(build(), OUTPUT, "tweets"))


if __name__ == "__main__":
    sys.exit(main())
