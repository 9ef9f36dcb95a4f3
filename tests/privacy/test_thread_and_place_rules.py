"""Hypothesis: the rules that separate a customer's data from what only looks like it.

A shop's own address is not personal data, the customer's is; digits inside a longer code
are no phone; a bare code is personal data when it answers the brand's question; a number
that fails its check digit is never flagged.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iban

from socialdesk.privacy.detect import Detector

DETECTOR = Detector()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

street_words = st.sampled_from(
    ["via", "Via", "viale", "v.le", "V.le", "piazza", "p.zza", "P.zza", "largo", "l.go", "corso",
     "c.so", "piazzale", "p.le", "vicolo"])
street_names = st.sampled_from(
    ["Roma", "Garibaldi", "dei Mille", "Mazzini", "Vittorio Veneto", "della Repubblica", "roma",
     "garibaldi", "san martino", "XX Settembre", "Dante Alighieri"])
house_numbers = st.builds(
    lambda n, form: form.format(n=n), st.integers(1, 999),
    st.sampled_from(["{n}", "n. {n}", "{n}/B", "n. {n} bis", "{n} bis", "n°{n}", "{n}/a"]))
italian_addresses = st.builds(
    lambda w, n, h: f"{w} {n} {h}", street_words, street_names, house_numbers)
english_addresses = st.builds(
    lambda n, name, kind, flat: f"{flat}{n} {name} {kind}",
    st.integers(1, 999), st.sampled_from(["Baker", "Elm", "High", "Church", "Mill", "Station"]),
    st.sampled_from(["Street", "St", "Road", "Rd", "Avenue", "Lane", "Drive", "Close"]),
    st.sampled_from(["", "Flat 12, ", "Apt 3, "]))
home_phrases = st.sampled_from(
    ["@brand abito in {a}, grazie", "@brand consegnate in {a} per favore",
     "@brand il pacco va a {a}", "@brand nuovo indirizzo: {a}"])
shop_phrases = st.sampled_from(
    ["@brand il negozio di {a} è chiuso", "@brand il punto vendita di {a} non ha la taglia",
     "@brand la filiale di {a} apre tardi", "@brand il centro assistenza di {a} non risponde",
     "@brand nel vostro negozio in {a} il prezzo è diverso"])
english_home = st.sampled_from(["@brand deliver to {a} please", "@brand my address is {a}"])
english_shop = st.sampled_from(
    ["@brand the store at {a} refused my return", "@brand your branch at {a} closed early",
     "@brand the service centre at {a} kept my phone"])


def kinds(text: str, context: str | None = None) -> set[str]:
    return {e.type for e in DETECTOR.scan(text, context=context)}


@SETTINGS
@given(italian_addresses, home_phrases, shop_phrases)
def test_a_customers_italian_address_is_personal_a_shops_is_not(
    address: str, home: str, shop: str
) -> None:
    assert "ADDRESS" in kinds(home.format(a=address))
    assert "ADDRESS" not in kinds(shop.format(a=address))


@SETTINGS
@given(english_addresses, english_home, english_shop)
def test_a_customers_english_address_is_personal_a_stores_is_not(
    address: str, home: str, shop: str
) -> None:
    assert "ADDRESS" in kinds(home.format(a=address))
    assert "ADDRESS" not in kinds(shop.format(a=address))


four_digit_blocks = st.lists(
    st.text("0123456789", min_size=4, max_size=4), min_size=3, max_size=6
).map(" ".join)


@SETTINGS
@given(four_digit_blocks, st.sampled_from(
    ["@brand tracking {c} fermo", "@brand gift card {c} già usata", "@brand card {c} rejected",
     "@brand codice {c} non valido"]))
def test_digits_laid_out_in_four_digit_blocks_are_never_a_phone(code: str, phrase: str) -> None:
    assert "PHONE" not in kinds(phrase.format(c=code))


@SETTINGS
@given(st.sampled_from(["SCONTO", "PROMO", "WELCOME", "SAVE", "BF"]),
       st.text("0123456789", min_size=8, max_size=12))
def test_digits_inside_a_promo_code_are_no_phone(prefix: str, digits: str) -> None:
    assert kinds(f"@brand il codice sconto {prefix}{digits} non funziona") == set()


ibans = st.builds(
    lambda bank, account: f"IT00X{bank}{account}",
    st.text("0123456789", min_size=10, max_size=10),
    st.text("0123456789", min_size=12, max_size=12))


@SETTINGS
@given(ibans, st.integers(0, 96))
def test_an_iban_that_fails_its_check_hides_its_digits(template: str, check: int) -> None:
    value = f"IT{check:02d}{template[4:]}"
    if iban.is_valid(value):
        return
    spaced = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    for text in (f"@brand IBAN falso {value} attenzione", f"@brand IBAN non valido: {spaced}"):
        assert kinds(text) == set(), text


codes = st.one_of(
    st.builds(lambda a, b: f"{a}-{b}", st.integers(100, 999), st.integers(1000, 9999)),
    st.integers(10_000, 10**13).map(str),
    st.builds(lambda p, n: f"{p}{n}", st.sampled_from(["CL", "C-", "TK", "INC"]),
              st.integers(10_000, 9_999_999)),
)
questions = st.sampled_from(
    ["What is your order number?", "Could you send us your order number, please?",
     "Ci indica il numero d'ordine?", "Ci mandi il numero della pratica?",
     "Can you DM us your account number?", "What's the ticket number?"])
replies = st.sampled_from(
    ["@brand it's {c}", "@brand {c}", "@brand eccolo {c} grazie", "@brand sure: {c}"])


@SETTINGS
@given(codes, questions, replies)
def test_a_bare_code_answering_the_brands_question_is_personal(
    code: str, question: str, reply: str
) -> None:
    text = reply.format(c=code)
    found = DETECTOR.scan(text, context=question)
    assert [e.value for e in found if e.type == "REFERENCE"] == [code], (text, found)


@SETTINGS
@given(codes, st.sampled_from(["Thanks for your patience!", "Grazie, verifichiamo subito.",
                               "Our order system is back online."]))
def test_without_a_question_a_bare_code_is_not_flagged_as_a_reference(
    code: str, context: str
) -> None:
    text = f"@brand ok {code} minutes later still nothing"
    assert "REFERENCE" not in kinds(text, context)


names = st.builds(lambda a, b: f"{a}.{b}", st.sampled_from(["mario", "giulia", "luca", "anna"]),
                  st.sampled_from(["rossi", "bianchi", "verdi87", "esposito"]))


@SETTINGS
@given(names, st.sampled_from([" at ", "[at]", " (at) ", " chiocciola "]),
       st.sampled_from(["gmail", "libero", "outlook", "tiscali"]),
       st.sampled_from([".", " dot ", "[dot]", " punto "]), st.sampled_from(["com", "it"]))
def test_an_email_spelled_out_is_still_an_email(
    name: str, at: str, domain: str, dot: str, tld: str
) -> None:
    address = f"{name}{at}{domain}{dot}{tld}"
    found = DETECTOR.scan(f"@brand scrivetemi a {address} grazie")
    assert [(e.type, e.value) for e in found] == [("EMAIL", address)]


@SETTINGS
@given(st.sampled_from(["look", "me", "us", "here"]),
       st.sampled_from(["amazon.it", "gmail.com", "ebay.com", "shopnow.it"]))
def test_at_before_a_site_in_prose_is_no_email(word: str, site: str) -> None:
    assert "EMAIL" not in kinds(f"@brand reach {word} at {site} for the price")
