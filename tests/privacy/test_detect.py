"""Unit tests per entity type: what is found, with which offsets, and what is not."""

from __future__ import annotations

import pytest
from stdnum import iban, luhn
from stdnum.it import codicefiscale

from socialdesk.privacy.detect import ENTITY_TYPES, Detector, Entity, detect


def found(text: str, detector: Detector | None = None) -> list[tuple[str, str]]:
    entities = (detector or Detector()).scan(text)
    for e in entities:
        assert text[e.start:e.end] == e.value
    return [(e.type, e.value) for e in entities]


def types_in(text: str) -> set[str]:
    return {t for t, _ in found(text)}


def test_entity_offsets_slice_the_value() -> None:
    text = "Chiamatemi al 347 123 4567, grazie"
    assert detect(text) == [Entity("PHONE", 14, 26, "347 123 4567")]


def test_entity_types_are_the_public_contract() -> None:
    assert ENTITY_TYPES == (
        "PHONE", "EMAIL", "IBAN", "CARD", "IT_FISCAL_CODE", "IT_VAT", "CRO", "TRN",
        "ADDRESS", "REFERENCE",
    )


# -- phones -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("Il mio numero è +39 347 123 4567, richiamatemi", "+39 347 123 4567"),
    ("chiamatemi al 3471234567 grazie", "3471234567"),
    ("fisso 02 3661 8300 dalle 9", "02 3661 8300"),
    ("call me on (415) 555-0132 tonight", "(415) 555-0132"),
    ("my UK mobile is 07911 123456", "07911 123456"),
    ("ring +44 7911 123456 please", "+44 7911 123456"),
    ("numero 0039 347 1234567", "0039 347 1234567"),
    ("Hi call02-36618 300forme", "02-36618 300"),
])
def test_phone_found(text: str, value: str) -> None:
    assert ("PHONE", value) in found(text)


@pytest.mark.parametrize("text", [
    "@brand 800 123 456 non risponde",          # Italian toll-free
    "chiamo il 848 123 456 da ore",             # shared cost
    "call +1 800 555 0199 they said",           # US toll-free
    "0800 123 4567 is closed",                  # UK freephone
    "1234567890 is not a phone",                # GB would read it without its 0
    "pagato € 1.299,00 il 12/03/2025",
    "volo AZ 1234 alle 10:30",
    "https://x.com/brand/status/1846372819283746512",
    "@user3471234567 is a fake account",
    "#promo3471234567",
    "+39023661830000",                          # too long for Italy
])
def test_phone_not_found(text: str) -> None:
    assert "PHONE" not in types_in(text)


def test_own_numbers_are_not_flagged() -> None:
    brand = Detector(own_numbers=["+39 02 3661 8300"])
    assert found("chiamate lo 02 3661 8300", brand) == []
    assert found("chiamate lo 02 3661 8300") == [("PHONE", "02 3661 8300")]


def test_regions_decide_national_numbers() -> None:
    assert found("(415) 555-2671", Detector(regions=["IT"])) == []
    assert found("(415) 555-2671", Detector(regions=["US"])) == [("PHONE", "(415) 555-2671")]
    with pytest.raises(ValueError):
        Detector(regions=["XX"])


# -- e-mail ------------------------------------------------------------------------------

def test_email() -> None:
    text = "scrivete a mario.rossi@example.it, grazie"
    assert found(text) == [("EMAIL", "mario.rossi@example.it")]
    assert found("@brand ciao @mario") == []
    assert found("my email is info@presidio.") == []


# -- IBAN --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "IT60X0542811101000000123456",
    "IT60 X054 2811 1010 0000 0123 456",
    "it60x0542811101000000123456",
    "DE89 3704 0044 0532 0130 00",
])
def test_iban_found(value: str) -> None:
    assert found(f"IBAN {value} per il rimborso") == [("IBAN", value)]


def test_iban_spaced_italian_layout() -> None:
    bban = "J0832712345000000012345"
    value = f"IT{iban.calc_check_digits('IT00' + bban)}{bban}"
    spaced = f"{value[:4]} {value[4]} {value[5:10]} {value[10:15]} {value[15:]}"
    assert found(f"accredito su {spaced} grazie") == [("IBAN", spaced)]


def test_two_ibans_next_to_each_other() -> None:
    text = "da IT60X0542811101000000123456 a DE89 3704 0044 0532 0130 00 bloccato"
    assert [t for t, _ in found(text)] == ["IBAN", "IBAN"]


def test_iban_with_bad_check_digits_is_not_flagged() -> None:
    assert "IBAN" not in types_in("IBAN IT61X0542811101000000123456 non valido")


# -- cards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "4012888888881881", "4012 8888 8888 1881", "4012-8888-8888-1881",
    "5555555555554444", "2223000048400011", "3714 496353 98431",
])
def test_card_found(value: str) -> None:
    assert ("CARD", value) in found(f"carta {value} rifiutata")


def test_mastercard_2_series_range() -> None:
    stem = "272099000000000"
    card = stem + luhn.calc_check_digit(stem)
    assert found(f"card {card}") == [("CARD", card)]


@pytest.mark.parametrize("text", [
    "carta 4012 8888 8888 1882 rifiutata",      # Luhn fails
    "tweet 1846372819283746512",               # 19 digits, not a card prefix/Luhn
    "IMEI 356938035643809 bloccato",
])
def test_card_not_found(text: str) -> None:
    assert "CARD" not in types_in(text)


# -- codice fiscale, partita IVA -----------------------------------------------------------

def test_fiscal_code() -> None:
    assert found("CF RSSMRA45C12F205C grazie") == [("IT_FISCAL_CODE", "RSSMRA45C12F205C")]
    assert found("cf rssmra45c12f205c") == [("IT_FISCAL_CODE", "rssmra45c12f205c")]
    assert found("omocodia RSSMRA45C12F20RX") == [("IT_FISCAL_CODE", "RSSMRA45C12F20RX")]
    check = codicefiscale.calc_check_digit("RSSMRA45C12F205")
    bad = "RSSMRA45C12F205" + ("A" if check != "A" else "B")
    assert found(f"CF {bad}") == []


def test_partita_iva_needs_context() -> None:
    assert found("P.IVA 00743110157") == [("IT_VAT", "00743110157")]
    assert found("partita IVA: 00743110157") == [("IT_VAT", "00743110157")]
    assert found("IT 00743110157") == [("IT_VAT", "IT 00743110157")]
    assert found("ho scritto 00743110157") == []
    assert found("P.IVA 00743110158") == []  # bad check digit


# -- CRO and TRN ------------------------------------------------------------------------------

def cro(head: str) -> str:
    return head + f"{int(head) % 13:02d}"


def test_cro_with_its_name() -> None:
    assert found("CRO 12345678900 del bonifico") == [("CRO", "12345678900")]  # named: any 11 digits
    assert found("il C.R.O. è 12345678900") == [("CRO", "12345678900")]


def test_cro_alone_needs_its_checksum() -> None:
    good = cro("712345678")  # not a phone in IT, US or GB
    assert found(f"riferimento {good} grazie") == [("CRO", good)]
    bad = good[:9] + f"{(int(good[9:]) + 1) % 100:02d}"
    assert found(f"riferimento {bad} grazie") == []


def test_trn() -> None:
    trn = "0306909606340322495308003010IT"
    assert found(f"TRN {trn}") == [("TRN", trn)]
    assert found(f"ecco: {trn}") == [("TRN", trn)]  # format check: 30 chars, mostly digits
    assert found("TRN ABCDEFGHIJKLMNOPQRSTUVWXYZABCD") == []


# -- addresses -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("abito in via Roma 12, 20121 Milano da anni", "via Roma 12, 20121 Milano"),
    ("consegnate in Piazza Santo Stefano 3", "Piazza Santo Stefano 3"),
    ("via dei Mille 8/B a Napoli", "via dei Mille 8/B"),
    ("I live at 221 Baker Street, London NW1 6XE", "221 Baker Street, London NW1 6XE"),
    ("send it to 350 Fifth Avenue, New York, NY 10118", "350 Fifth Avenue, New York, NY 10118"),
])
def test_address_found(text: str, value: str) -> None:
    assert found(text) == [("ADDRESS", value)]


@pytest.mark.parametrize("text", [
    "vi ho scritto via Facebook 3 volte",
    "contattato via email 2 volte",
    "meglio andare via treno",
    "the road was closed",
])
def test_address_not_found(text: str) -> None:
    assert "ADDRESS" not in types_in(text)


def test_own_address_is_not_flagged() -> None:
    brand = Detector(own_addresses=["Via Roma 12, Milano"])
    assert found("venite in via Roma 12", brand) == []


# -- references ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("ordine n. 4471203 non arrivato", "4471203"),
    ("n° ordine 4471203", "4471203"),
    ("pratica RS-2024-88412 aperta", "RS-2024-88412"),
    ("prenotazione QX7P2L cancellata", "QX7P2L"),
    ("booking ref QX7P2L please", "QX7P2L"),
    ("PNR HBTRWQ bagaglio perso", "HBTRWQ"),
    ("case #0123456 still open", "0123456"),
    ("ticket 88412", "88412"),
    ("codice cliente CL00982231", "CL00982231"),
    ("account 448812907 locked", "448812907"),
    ("transaction id TX99017734", "TX99017734"),
])
def test_reference_found_code_only(text: str, value: str) -> None:
    assert found(text) == [("REFERENCE", value)]


@pytest.mark.parametrize("text", [
    "ordine del 12/03/2025 in ritardo",
    "my order is 3 weeks late",
    "ticket price went from $20 to $35",
    "prenotazione volo AZ 1234",
    "order of 12 units",
    "cliente dal 2008",
])
def test_reference_not_found(text: str) -> None:
    assert "REFERENCE" not in types_in(text)


# -- custom patterns, look-alikes, robustness ----------------------------------------------------

def test_custom_patterns() -> None:
    patterns = {"loyalty": r"\bLY-\d{6}\b", "member": r"socio (?P<value>\d{5})"}
    brand = Detector(custom_patterns=patterns)
    assert found("tessera LY-123456, socio 55123", brand) == [
        ("CUSTOM:loyalty", "LY-123456"), ("CUSTOM:member", "55123"),
    ]
    with pytest.raises(ValueError, match="loyalty"):
        Detector(custom_patterns={"loyalty": "("})


@pytest.mark.parametrize("text", [
    "Frecciarossa 9543 FR8123 v2.14.3 iOS 17.1",
    "tracking 1Z999AA10123456784 fermo",
    "spedizione RR123456789IT non si aggiorna",
    "#BlackFriday2024 $49.99 2025-10-11",
    "SKU 8801643882123 esaurito",
])
def test_lookalikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


def test_overlaps_resolve_to_the_more_specific_entity() -> None:
    assert found("ordine 3471234567 arrivato") == [("REFERENCE", "3471234567")]
    assert found("scrivi a 3471234567@example.it") == [("EMAIL", "3471234567@example.it")]


@pytest.mark.parametrize(
    "text", ["", " ", "🙂" * 500, "İstanbul 347 123 4567", "9" * 10_000, "a@" * 3000]
)
def test_odd_inputs(text: str) -> None:
    for e in detect(text):
        assert text[e.start:e.end] == e.value


def test_unicode_offsets_are_code_points() -> None:
    text = "😡😡 İİ chiamatemi al 347 123 4567"
    (entity,) = detect(text)
    assert text[entity.start:entity.end] == "347 123 4567"
