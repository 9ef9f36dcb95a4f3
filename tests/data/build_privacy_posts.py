# ruff: noqa: E501  (one hand-written post per line reads better than wrapped strings)
"""Build `privacy_posts.jsonl`: hand-written support posts with synthetic personal data.

Run `python tests/data/build_privacy_posts.py` after editing the posts below; a test checks
that the committed JSONL is what this script writes (the random values are seeded).

Every post is written by hand. Personal data goes in two ways:

* ``{kind}`` placeholders get a fresh synthetic value: IBANs, fiscal codes, cards, partite
  IVA, CRO and TRN codes are built with python-stdnum's own check-digit helpers, phone
  numbers are drawn until phonenumbers calls them valid (look-alike kinds get values that
  are built to fail);
* ``[[TYPE|value]]`` marks a hand-written value (addresses, references, e-mails).

Gold offsets are computed from where each value lands in the text, never typed by hand.
The generator checks each value with the libraries, not with socialdesk's detector, so the
labels do not depend on the code they test. No real person's data is used.
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from stdnum import iban, luhn
from stdnum.it import codicefiscale, iva

OUTPUT = Path(__file__).with_name("privacy_posts.jsonl")
SEED = 20250311
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}|\[\[([A-Z_:a-z]+)\|(.+?)\]\]")

# --------------------------------------------------------------------------------------
# Posts with personal data (a "pii" row must contain at least one gold entity).

PII_POSTS = [
    # couriers
    "@SpeedyPacchi il corriere non è passato, richiamatemi al {mobile_it} grazie",
    "@SpeedyPacchi pacco fermo da 5 giorni, il mio numero è {mobile_it_intl}, chiamatemi voi",
    "Consegnate a [[ADDRESS|via Garibaldi 14, 10122 Torino]] invece che al vicino per favore",
    "@SpeedyPacchi indirizzo giusto è [[ADDRESS|Corso Vittorio Emanuele II 45]], non 54!",
    "Spedizione ordine [[REFERENCE|4471203]] mai arrivata, scrivetemi a [[EMAIL|giulia.bianchi87@gmail.com]]",
    "Il pacco dell'ordine n. [[REFERENCE|5518820]] risulta consegnato ma non l'ho ricevuto. Tel {mobile_it}",
    "@SpeedyPacchi abito in [[ADDRESS|Piazza Santo Stefano 3, 40125 Bologna]], il corriere dice indirizzo inesistente",
    "@ParcelGo my parcel never arrived, please call {phone_uk} before 6pm",
    "@ParcelGo deliver to [[ADDRESS|221 Baker Street, London NW1 6XE]] not to the depot, thanks",
    "@ParcelGo it's been a week. Case #[[REFERENCE|0123456]] still open. My number {phone_uk_intl}",
    "@ParcelGo driver left my box outside [[ADDRESS|14 Elm Road]], it got soaked. Call me {phone_us}",
    "@ShipFast the package for order #[[REFERENCE|A7731902]] is stuck, reach me at [[EMAIL|tom.harris_77@outlook.com]]",
    "ciao, sono in [[ADDRESS|via dei Mille 8/B]] a Napoli, il citofono funziona, perché non suonate? {mobile_it}",
    "@SpeedyPacchi numero cliente [[REFERENCE|99812345]], il ritiro non è avvenuto",
    "Ho richiesto il reso, pratica [[REFERENCE|RS-2024-88412]], ma nessuno è passato a ritirarlo",
    "@SpeedyPacchi mia mamma ha 80 anni, chiamate il fisso {fixed_it} prima di passare",
    "@ParcelGo 3rd failed delivery. My address: [[ADDRESS|77 Queen Victoria Street]], ring flat 4. {phone_uk}",
    "@ShipFast tracking says delivered but nothing here. Ticket [[REFERENCE|88412]], phone {phone_us}",
    "Buongiorno, ritiro in [[ADDRESS|viale Monza 120, 20127 Milano]] mai effettuato, mail [[EMAIL|marco.ferri@libero.it]]",
    "@SpeedyPacchi cambiate indirizzo: [[ADDRESS|Largo Augusto 2]], il numero è {mobile_it_dashed}",
    # telcos
    "@TelcoPiu la fibra non va da 3 giorni, sono il titolare, chiamatemi al {mobile_it}",
    "@TelcoPiu codice cliente [[REFERENCE|CL00982231]] bolletta doppia, rimborsatemi",
    "@TelcoPiu ho fatto la portabilità ma il numero {mobile_it_intl} è ancora disattivato",
    "@TelcoPiu il mio codice fiscale è {cf}, perché dite che non risulto intestatario?",
    "@TelcoPiu addebito non autorizzato sul conto {iban_it}, voglio lo storno",
    "@TelcoPiu intestatario {cf}, contratto [[REFERENCE|TP-55190342]], disdetta inviata a gennaio",
    "@TelcoPiu scrivetemi su [[EMAIL|f.rossi1979@yahoo.it]] che qui non rispondete mai",
    "@TelcoPiu il modem nuovo va spedito a [[ADDRESS|via Po 22, 00198 Roma]], non al vecchio indirizzo",
    "@MobileNet my bill is wrong again, account [[REFERENCE|448812907]], call me on {phone_us}",
    "@MobileNet switched to you last month and {phone_uk} still has no signal at home",
    "@MobileNet please send the new SIM to [[ADDRESS|1600 Pennsylvania Avenue]], I moved",
    "@MobileNet email me at [[EMAIL|sarah.k.jones@icloud.com]] with the contract details",
    "@TelcoPiu sono intestataria della linea {fixed_it}, guasto da lunedì",
    "@TelcoPiu la SIM {mobile_it} è stata clonata!!! bloccatela subito",
    "@TelcoPiu segnalazione [[REFERENCE|S-7781234]] aperta da un mese, nessun tecnico",
    "@MobileNet porting from my old carrier failed for {phone_us_dashed}, fix it please",
    "@TelcoPiu richiesta [[REFERENCE|INC0048812]] chiusa senza risolvere niente",
    "@TelcoPiu pago con la carta {card_visa_spaced} ma l'addebito è fallito 2 volte",
    "@MobileNet I was charged twice on card {card_mc2_dashed}, refund please",
    "@TelcoPiu la mia mail è [[EMAIL|anna.verdi@pec.it]], mandatemi lì la fattura",
    # banks
    "@BancaAzzurra bonifico con CRO {cro} non ancora accreditato dopo 5 giorni",
    "@BancaAzzurra mi date conferma del bonifico? TRN {trn}",
    "@BancaAzzurra il mio IBAN è {iban_it_spaced} e lo stipendio non è arrivato",
    "@BancaAzzurra ho ricevuto un bonifico da {iban_de} che non riconosco, è una truffa?",
    "@BancaAzzurra carta {card_visa} bloccata all'estero, sono in vacanza e senza soldi",
    "@BancaAzzurra codice riferimento operazione {cro} ma il beneficiario dice che non ha ricevuto nulla",
    "@BancaAzzurra IBAN {iban_it_layout} questo è quello giusto per l'accredito?",
    "@BancaAzzurra ecco il CRO: {cro} del 3 marzo",
    "@BancaAzzurra bonifico istantaneo fallito, il mio conto è {iban_it}",
    "@BancaAzzurra P.IVA {piva}, la mia ditta non riesce ad accedere all'home banking",
    "@BancaAzzurra sono titolare della partita IVA {piva}, mi serve il POS",
    "@BancaAzzurra transazione [[REFERENCE|TX99017734]] non riconosciuta, bloccate la carta {card_mc5_spaced}",
    "@BancaAzzurra il numero di riferimento è {cro_bare}, controllate voi",
    "@BancaAzzurra CRO {cro_bare} vi basta?",
    "@BankOfTheWest my card {card_amex} was declined at the pharmacy",
    "@BankOfTheWest wire to {iban_gb} never arrived, it has been 10 days",
    "@BankOfTheWest my number is {phone_us}, nobody called back about the fraud claim [[REFERENCE|FC-20931]]",
    "@BancaAzzurra non riesco ad attivare il token, chiamatemi al {mobile_it_intl}",
    "@BancaAzzurra c.f. {cf} e non mi fate aprire il conto online",
    "@BancaAzzurra carta di credito n. {card_visa} rubata, bloccatela",
    "@BancaAzzurra il bonifico verso {iban_fr} è stato respinto, perché?",
    "@BancaAzzurra sono di Bologna, [[ADDRESS|via Indipendenza 33]], la filiale è chiusa da settimane",
    "@BancaAzzurra IBAN {iban_es} del mio fornitore spagnolo, il bonifico SEPA è lecito?",
    "@BankOfTheWest sent from {iban_de} to my account, still pending. Transaction [[REFERENCE|TRX-5521987]]",
    "@BancaAzzurra la ditta ha VAT {piva_it}, serve altro per il conto business?",
    # airlines
    "@VolaItalia prenotazione [[REFERENCE|QX7P2L]] cancellata senza avviso, chiamatemi {mobile_it}",
    "@VolaItalia booking ref [[REFERENCE|ZK4M9T]] and no refund yet. {phone_uk}",
    "@VolaItalia PNR [[REFERENCE|HBTRWQ]], il bagaglio non è arrivato a Fiumicino",
    "@VolaItalia bagaglio smarrito, pratica [[REFERENCE|FCOAZ12345]], consegnatelo a [[ADDRESS|via Appia Nuova 410, 00181 Roma]]",
    "@FlyHigh lost luggage claim [[REFERENCE|LHRFH54321]], deliver to [[ADDRESS|52 Festive Road]]",
    "@FlyHigh my reservation [[REFERENCE|8XK2PQ]] shows the wrong name, call {phone_us}",
    "@VolaItalia rimborso volo cancellato mai arrivato sulla carta {card_visa_spaced}",
    "@VolaItalia mandate la conferma a [[EMAIL|luca.conti92@gmail.com]], non l'ho ricevuta",
    "@FlyHigh confirmation [[REFERENCE|KLM8827Q]] but the app says no booking found",
    "@VolaItalia numero di prenotazione [[REFERENCE|PRN447120]] e il check-in non funziona",
    "@FlyHigh I paid the upgrade with {card_mc5_spaced} and got nothing",
    "@VolaItalia richiamatemi al {mobile_it}: ho un volo domani e il posto non risulta",
    "@FlyHigh booking [[REFERENCE|X3T7LM]], wheelchair assistance not booked, call {phone_uk_intl}",
    "@VolaItalia il mio codice fiscale {cf} per la fattura del volo, grazie",
    "@FlyHigh refund to {iban_gb} please, the voucher is no use to me",
    # e-commerce
    "@ShopNow ordine [[REFERENCE|402-7781234-5512]] arrivato rotto, chiamatemi al {mobile_it}",
    "@ShopNow n° ordine [[REFERENCE|7741209]], manca un articolo",
    "@ShopNow numero d'ordine: [[REFERENCE|IT-88123467]], rimborso mai arrivato sulla carta {card_visa}",
    "@ShopNow order [[REFERENCE|112-4456789-1023]] was never delivered, email [[EMAIL|dave.miller@hotmail.co.uk]]",
    "@ShopNow fattura intestata a P. IVA {piva}, ma avete messo il codice fiscale sbagliato",
    "@ShopNow spedite a [[ADDRESS|via Nazionale 200, 00184 Roma]] non a Milano!",
    "@ShopNow I was charged on {card_visa_spaced} for an order I cancelled",
    "@ShopNow account [[REFERENCE|77120934]] locked after the password reset",
    "@ShopNow mandatemi il reso a [[EMAIL|chiara_esposito@libero.it]]",
    "@ShopNow sono a [[ADDRESS|Piazza del Duomo 1]], il rider dice che non trova il civico",
    "@ShopNow case number [[REFERENCE|CS-00981273]] no reply for 10 days. Call me {phone_us}",
    "@ShopNow il mio numero {mobile_it_intl} non riceve l'SMS di conferma",
    "@ShopNow reso ordine [[REFERENCE|9981234]]: rimborso sull'IBAN {iban_it}",
    "@ShopNow deliver to [[ADDRESS|10 Downing Street, London SW1A 2AA]] lol no seriously it's {phone_uk}",
    "@ShopNow cancel order [[REFERENCE|55120987]] please, charged twice on {card_amex}",
    "@ShopNow rimborso: intestatario {cf}, IBAN {iban_it_spaced}",
    "@ShopNow il codice cliente è [[REFERENCE|C-4419983]], login impossibile",
    "@ShopNow ticket [[REFERENCE|4410923]] aperto ad agosto, ancora niente",
    "@ShopNow la fattura va a {piva_it}, non al privato",
    "@ShopNow scrivetemi su WhatsApp al {mobile_it_intl}",
    # mixed, longer posts
    "@SpeedyPacchi sono Maria, abito in [[ADDRESS|via Roma 12, 20121 Milano]], tel {mobile_it}, il pacco è dal vicino?",
    "@BancaAzzurra bonifico da {iban_it} a {iban_it_spaced} bloccato, CRO {cro}",
    "@TelcoPiu disdetta: CF {cf}, contratto [[REFERENCE|77881234]], mail [[EMAIL|paolo.greco@tiscali.it]]",
    "@ShopNow doppio addebito su {card_mc2_dashed}, ordine [[REFERENCE|8812734]], chiamatemi al {mobile_it}",
    "@FlyHigh booking [[REFERENCE|QH6N2W]], phone {phone_uk}, email [[EMAIL|j.smith1985@gmail.com]]",
    "@MobileNet moved to [[ADDRESS|350 Fifth Avenue, New York, NY 10118]], update my billing and call {phone_us}",
    "@BankOfTheWest my card {card_visa} and my account [[REFERENCE|0044871265]] both blocked",
    "@VolaItalia sono a Malpensa, numero {mobile_it_intl}, bagaglio [[REFERENCE|MXPAZ48812]]",
    "@BancaAzzurra TRN: {trn} – l'importo è giusto ma non arriva",
    "@BancaAzzurra il TRN del bonifico è {trn}",
    "@BancaAzzurra vi giro il T.R.N. {trn}",
    "@TelcoPiu la mia email [[EMAIL|simone.russo@fastwebnet.it]] e il cellulare {mobile_it}",
    "@ShopNow p.iva {piva} – fattura elettronica non ricevuta",
    "@ParcelGo redelivery to [[ADDRESS|9 Kings Road]], any day after 5. Phone {phone_uk}",
    "@ShopNow ordine [[REFERENCE|3310298]] – consegna a [[ADDRESS|Via Cavour 5, 50129 Firenze]]",
    "@SpeedyPacchi codice fiscale {cf} per lo sdoganamento, serve altro?",
    "@BancaAzzurra IBAN beneficiario {iban_it_lower}",
    "@VolaItalia chiamatemi al fisso {fixed_it_intl}, al cellulare non prende",
    "@MobileNet text me on {phone_us_intl}, I am abroad",
    "@FlyHigh I'm at the gate, my number is {phone_uk}. Booking [[REFERENCE|JX2M8R]]",
    "@BancaAzzurra {cf} è il mio CF, perché non risulto cliente?",
    "@BancaAzzurra carta {card_visa} scaduta, quella nuova non è mai arrivata a [[ADDRESS|via Manzoni 9, 20121 Milano]]",
    "@TelcoPiu contattatemi: {mobile_it} oppure [[EMAIL|info.mario.b@gmail.com]]",
    "@ShopNow P.IVA {piva} e codice SDI sbagliato in fattura",
    "@ParcelGo I work at [[ADDRESS|30 St Mary Axe]], leave it at reception",
    "@ShipFast the courier called {phone_us_dashed} but that's my old number",
    "@BancaAzzurra bonifico CRO n. {cro} fatto il 2 marzo",
    "@BancaAzzurra ho il CRO {cro}, basta per il reclamo?",
    "@VolaItalia rimborso sull'IBAN {iban_it_layout} per favore",
    "@BankOfTheWest routing fine but IBAN {iban_gb_compact} rejected",
    "@ShopNow ordine n° [[REFERENCE|2210984]] fermo in magazzino",
    "@TelcoPiu sono il titolare del numero {mobile_it}, ho smarrito la SIM",
    "@TelcoPiu mia figlia ha la linea {mobile_it_intl} intestata a me, CF {cf}",
    "@SpeedyPacchi [[ADDRESS|via Nizza 41, 10125 Torino]] è l'indirizzo corretto, ditelo al corriere",
    "@ShipFast claim [[REFERENCE|CLM-778123]] for the damaged TV, reach me at {phone_us}",
    "@BancaAzzurra la mia carta {card_mc2_dashed} viene rifiutata ovunque",
    "@VolaItalia segnalazione bagaglio [[REFERENCE|FCOVI10923]], abito in [[ADDRESS|viale Trastevere 60, 00153 Roma]]",
    "@ShopNow buongiorno, l'ordine [[REFERENCE|6612093]] non è mai partito, chiamatemi al {mobile_it_dashed}",
    "@ShopNow account [[REFERENCE|AC-5519923]] hacked, they changed the email to [[EMAIL|scam.account.2024@proton.me]]",
    "@TelcoPiu la PEC è [[EMAIL|ditta.rossi.srl@legalmail.it]], P.IVA {piva}",
    "@FlyHigh my booking [[REFERENCE|R8TQ2Z]] was charged to {card_visa_spaced} twice",
    "@BancaAzzurra sono cliente, conto {iban_it_spaced}, non vedo i movimenti da ieri",
    "@VolaItalia prenotazione [[REFERENCE|LPQWXT]] volo per Catania, nessuna email ricevuta",
    "@ParcelGo my phone {phone_uk_intl} – please text before delivering",
    "@ShopNow CF {cf_lower} in fattura è sbagliato, correggete",
    "@MobileNet customer id [[REFERENCE|98812774]], the roaming bundle never activated",
    "@BancaAzzurra il bonifico con CRO {cro_bare} risulta stornato",
    "@TelcoPiu il tecnico deve venire in [[ADDRESS|Corso Buenos Aires 52]], citofono Bianchi, tel {fixed_it}",
    "@ShopNow la carta {card_amex} è stata addebitata ma l'ordine risulta annullato",
    "@SpeedyPacchi chiamatemi al {mobile_it} oppure al {fixed_it}, sono sempre in casa",
    "@FlyHigh PNR [[REFERENCE|WQ9Z3K]] — you moved my seat and split my family",
    "@BankOfTheWest I sent money to {iban_fr} by mistake, can you recall it?",
    "@ShopNow pratica reso [[REFERENCE|R-2025-04417]] aperta, IBAN per il rimborso {iban_it}",
    "@TelcoPiu portabilità del {mobile_it_intl} bloccata da 10 giorni",
    "@ParcelGo ring {phone_uk} when outside [[ADDRESS|5 Abbey Road]], the buzzer is broken",
    "@SpeedyPacchi il pacco va in [[ADDRESS|via Emilia Ponente 182, 40133 Bologna]], scala B",
    "@ShopNow sono in [[ADDRESS|Piazzale Loreto 1]] ma il rider è andato in piazza Loreto a Torino",
    "@SpeedyPacchi lasciatelo al bar sotto casa, [[ADDRESS|via Saragozza 75]]",
    "@MobileNet my address is [[ADDRESS|48 Oakwood Drive, Leeds LS8 2HP]], the engineer went to 84",
    "@ShipFast ship to [[ADDRESS|742 Evergreen Terrace]] please, not the PO box",
    "@TelcoPiu trasloco in [[ADDRESS|viale Europa 7, 20093 Cologno Monzese]], attivate la linea lì",
    "@ParcelGo it's [[ADDRESS|12 Church Lane]], the white door, not [[ADDRESS|12 Church Street]]",
    "@BancaAzzurra la nuova carta va spedita in [[ADDRESS|corso Italia 101, 56125 Pisa]]",
]

# --------------------------------------------------------------------------------------
# Hard look-alikes: nothing here is personal data.

LOOKALIKE_POSTS = [
    # toll-free and published numbers
    "@TelcoPiu ho chiamato l'800 123 456 tre volte e nessuno risponde",
    "@TelcoPiu il numero verde {toll_free_it} è sempre occupato",
    "@BankOfTheWest called {toll_free_us} and waited 45 minutes on hold",
    "@ParcelGo your freephone {toll_free_uk} just hangs up on me",
    "@BancaAzzurra il numero {shared_cost_it} costa troppo da cellulare",
    "@ShopNow on your site it says call {toll_free_us_intl}, is that right?",
    "@VolaItalia il numero a pagamento {premium_it} è una vergogna",
    # prices, dates, times
    "@ShopNow pagato € 1.299,00 per una TV arrivata rotta il 12/03/2025",
    "@ShopNow the price dropped to $49.99 the day after I bought it at $79.99",
    "@VolaItalia volo del 2025-10-11 alle 10:30 cancellato, rimborso di 349,90 euro?",
    "@TelcoPiu bolletta di 1.250,50 € per il mese di marzo, impossibile",
    "@ShopNow ordinato il 03/10/2024 alle 21:45, consegna prevista 07/10/2024",
    "@FlyHigh flight on 14/02/2025 at 06:15, delayed to 09:40, compensation £220?",
    "@BancaAzzurra commissione di 2,50 EUR su un bonifico di 15.000,00 EUR, perché?",
    "@TelcoPiu offerta a 9,99€/mese poi diventata 14,99€ dal 01.04.2025",
    "@ShopNow paid 1,349.00 USD on 2024-11-29, black friday price was 999.00",
    "@SpeedyPacchi consegna prevista tra le 9.00 e le 13.00 del 21/06, nessuno è passato",
    "@BancaAzzurra l'estratto conto del 31.12.2024 riporta 12.345,67 € di saldo, mi sembra strano",
    # flights and trains
    "@VolaItalia volo AZ 1234 Roma-Milano in ritardo di 3 ore",
    "@FlyHigh FR8123 cancelled again, third time this month",
    "@VolaItalia il volo AZ610 per New York è stato spostato alle 16:20",
    "Il Frecciarossa 9543 è fermo a Firenze da un'ora, nessuna comunicazione",
    "@FlyHigh BA 2490 from Gatwick, gate changed 4 times",
    "@VolaItalia treno 9612 e volo AZ 2045 in coincidenza, se perdo il volo chi paga?",
    "@FlyHigh seat 23C on U2 8431 was double booked",
    "@VolaItalia Italo 8911 con 40 minuti di ritardo e coincidenza persa",
    # versions and software
    "@ShopNow l'app v2.14.3 crasha su iOS 17.1 appena apro il carrello",
    "@BancaAzzurra dopo l'aggiornamento alla versione 5.2.1 non riesco più a fare login su Android 14",
    "@MobileNet the router firmware 3.10.2 broke my wifi",
    "@TelcoPiu modem con firmware v1.0.42 continua a riavviarsi",
    "@ShopNow app version 12.4.0 build 2291 keeps logging me out",
    # handles, hashtags, urls
    "@SpeedyPacchi @ParcelGo_IT voi due dovete mettervi d'accordo #pacco #ritardo",
    "@FlyHigh see https://x.com/FlyHigh/status/1846372819283746512 you promised a refund",
    "@ShopNow come da vostro post https://www.facebook.com/ShopNow/posts/10158841234567890 il codice sconto non va",
    "@TelcoPiu #disservizio #fibra2025 da tre giorni senza internet",
    "@ShopNow link al prodotto: shopnow.it/p/88123456712 ma il prezzo è diverso",
    "@BancaAzzurra @user3471234567 sta fingendo di essere il vostro supporto!",
    "@MobileNet https://t.co/Ab3XyZ12Qp is this link from you or is it phishing?",
    "@VolaItalia #AZ1234 #ritardo #vergogna",
    # tracking numbers and product codes
    "@SpeedyPacchi tracking {tracking_ups} fermo da giorni",
    "@SpeedyPacchi numero di spedizione RR123456789IT non si aggiorna",
    "@ParcelGo tracking number 1Z999AA10123456784 says delivered",
    "@ShopNow SKU 8801643882123 non disponibile da mesi",
    "@ShopNow codice articolo 4002516319883 arrivato diverso dalla foto",
    "@ShipFast tracking JD014600003828290000 hasn't moved since Monday",
    "@SpeedyPacchi LDV 0580123456789 consegna fallita",
    "@ShopNow model QE55Q80CATXZT arrived with a cracked screen",
    "@ShopNow seriale SN4471203998 non riconosciuto in garanzia",
    "@TelcoPiu il modem modello FRITZ!Box 7530 non si connette",
    "@ShopNow EAN 8001090621221 sold out again",
    # invalid checksums
    "@BancaAzzurra questo IBAN {bad_iban} mi dà errore nel vostro sito, perché?",
    "@BancaAzzurra il sito dice IBAN non valido: {bad_iban_spaced}",
    "@TelcoPiu il vostro form rifiuta il codice {bad_cf}, controllate il sistema",
    "@ShopNow the card {bad_card} is rejected, but I typed it right",
    "@ShopNow il sito dice carta non valida: {bad_card_spaced}",
    "@BankOfTheWest why does {bad_iban} fail validation on your app?",
    # 11-digit and long numbers without context
    "@ShopNow ho contato {non_cro11} visualizzazioni del vostro video lol",
    "@TelcoPiu vi ho scritto {non_cro11} volte, rispondete",
    "@SpeedyPacchi il lotto {non_cro11} è quello difettoso?",
    "@FlyHigh your tweet {tweet_id} says flights are fine, they are not",
    "@ShopNow il codice sconto ABC{non_cro11} non funziona",
    "@ShopNow codice promo SPRING2025 scaduto prima del tempo",
    "@BancaAzzurra la popolazione italiana è di 58990000 persone e nessuno risponde",
    # quantities, percentages, misc digits
    "@TelcoPiu velocità di 1000 Mbps promessa, ne ho 35",
    "@ShopNow 3 pacchi su 4 arrivati, manca il quarto",
    "@VolaItalia 250 persone al gate e un solo addetto",
    "@MobileNet 5G at 98% signal and still 2 Mbps",
    "@ShopNow sconto del 20% non applicato al totale",
    "@BancaAzzurra tasso al 3,5% e rata di 450 € al mese",
    "@TelcoPiu giga 150 a 7,99 e invece mi addebitate 12,99",
    # via / street words that are not addresses
    "@ShopNow vi ho scritto via Facebook 3 volte senza risposta",
    "@TelcoPiu contattato via email 2 volte e via chat 4 volte",
    "@BancaAzzurra ho mandato il reclamo via PEC 10 giorni fa",
    "@ParcelGo I sent it via DM 2 days ago",
    "@VolaItalia meglio andare via treno a questo punto",
    "@ShopNow street price di 299 euro, da voi 349",
    "@ParcelGo the road was closed so the driver gave up, unacceptable",
    # context words with no code
    "@ShopNow ordine arrivato, grazie mille!",
    "@ShopNow my order is 3 weeks late",
    "@TelcoPiu il mio account è bloccato da 3 giorni",
    "@FlyHigh booking for 2 adults and 1 child failed 3 times",
    "@ShopNow ticket price went from $20 to $35",
    "@BancaAzzurra conto corrente aperto nel 2019, mai avuto problemi fino ad oggi",
    "@VolaItalia prenotazione per il 12/05 fatta, ma non ricevo la mail",
    "@ShopNow in case 2 items are missing, do I open a new request?",
    "@TelcoPiu pratica aperta il 01/02/2025, sono passati 45 giorni",
    "@BancaAzzurra il CRO non lo trovo nella ricevuta, dove lo vedo?",
    "@BancaAzzurra dove trovo il TRN del bonifico nell'app?",
    "@ShopNow la partita IVA non la ho, sono un privato",
    "@TelcoPiu numero cliente? non lo trovo da nessuna parte nella bolletta",
    "@ShopNow order of 12 units arrived as 10",
    "@ShopNow ordine del 12/03/2025 ancora in lavorazione",
    "@FlyHigh reference to your email of 2025-03-01: nothing has changed",
    "@ShopNow richiesta del 02/04 alle 11:20 ancora senza risposta",
    # years, counts, codes shaped like others
    "@VolaItalia cliente dal 2008, mai trattato così",
    "@TelcoPiu nel 2023 pagavo 19,90, ora 29,90",
    "@ShopNow gift card 50 euro non accettata",
    "@BancaAzzurra il 730 precompilato dice che ho un rimborso, quando arriva?",
    "@TelcoPiu il modello 730/2025 non c'entra niente con la bolletta",
    "@ShopNow reso entro 30 giorni, ne sono passati 12",
    "@FlyHigh 2 hours 45 minutes on the tarmac",
    "@VolaItalia 3 voli cancellati in 2 settimane",
    "@ShopNow colore #FF5733 diverso dalla foto",
    "@ShopNow taglia 42 ma è una 38",
    # hashtag / handle with digits
    "@ShopNow #BlackFriday2024 sconti finti",
    "@TelcoPiu @TelcoPiu_Help @TelcoPiu4Business qualcuno risponde?",
    "@BancaAzzurra #bonifico #ritardo #2025",
    "@FlyHigh @FlyHigh_Support_2 please",
    # toll-free inside longer posts
    "@TelcoPiu sul sito c'è scritto di chiamare l'800 90 90 90 ma è il numero di un'altra azienda",
    "@BancaAzzurra il numero verde 800.123.456 è inattivo nel weekend",
    "@BankOfTheWest 1-800-555-0199 is the number on the back of the card but it's always busy",
    "@ParcelGo 0800 123 4567 says the office is closed at 2pm",
    # ids and numbers in URLs
    "@ShopNow https://shopnow.it/ordini/3471234567/dettaglio non si apre",
    "@BancaAzzurra www.bancaazzurra.it/app?id=00743110157 è ufficiale?",
    "@TelcoPiu https://telcopiu.it/offerte?ref=IT60X0542811101000000123456 strano link ricevuto via SMS",
    # other digit runs
    "@MobileNet IMEI 356938035643809 blocked after the update",
    "@VolaItalia 4 ore e 20 minuti di ritardo, altro che 15",
    "@ShopNow ho aspettato dalle 8:00 alle 20:00 e nessuno è passato",
    "@TelcoPiu la linea cade ogni 10-15 minuti",
    "@ShopNow 2x1 non applicato, 2 prodotti da 24,90",
    "@FlyHigh rows 12-15 all had broken screens",
    "@BancaAzzurra dal 1/3 al 15/3 addebiti doppi",
    "@ShopNow voto 1/10 al servizio clienti",
    "@SpeedyPacchi consegna tra 2-3 giorni lavorativi, sono passati 9",
    # Italian legal/administrative numbers that are not personal
    "@TelcoPiu secondo la delibera 252/16/CONS avete torto",
    "@BancaAzzurra ai sensi del D.Lgs. 196/2003 chiedo i miei dati",
    "@ShopNow art. 52 del Codice del Consumo: recesso entro 14 giorni",
    "@VolaItalia regolamento CE 261/2004, mi spetta il rimborso",
    # English posts, misc
    "@ShopNow Black Friday deal was 40% off, charged full price",
    "@FlyHigh 12 hour delay on the 10:45 to JFK",
    "@MobileNet 3 engineers, 0 fixes, 14 days without broadband",
    "@ParcelGo 4 missed deliveries in 2 weeks",
    "@ShopNow I rated the product 5 stars and you deleted the review",
    "@BankOfTheWest the app shows -$1,240.55 but I never spent that",
    "@ShipFast 2-day shipping took 11 days",
    "@FlyHigh gate B27 at 18:05, boarding never started",
    "@ShopNow unit price £12.49 but charged £24.98",
    "@MobileNet plan went from 30 GB to 15 GB without notice",
    # Italian, misc
    "@SpeedyPacchi il corriere è passato alle 7:45 di domenica??",
    "@TelcoPiu 4 tecnici in 2 mesi e ancora niente",
    "@ShopNow confezione da 6 bottiglie arrivata con 4",
    "@VolaItalia bagaglio da 23 kg pagato 2 volte",
    "@BancaAzzurra mutuo al 2,9% per 25 anni, mi avevate promesso il 2,5%",
    "@TelcoPiu 100 giga in 4G ma navigo a 0,5 Mbps",
    "@ShopNow pacco da 12,5 kg lasciato sotto la pioggia",
    "@SpeedyPacchi consegna fissata per il 15/04/2025 tra le 14.00 e le 18.00",
    "@VolaItalia Milano-Palermo delle 7.05 anticipato alle 6.10 senza avvisare",
    "@BancaAzzurra il bancomat di piazza Duomo trattiene le carte",
    "@SpeedyPacchi il deposito di via Mecenate non risponde mai",
    "@ShopNow il negozio di corso Buenos Aires non accetta i resi online",
    "@TelcoPiu il negozio in piazza Garibaldi dice di chiamare voi, voi dite di andare in negozio",
]

# --------------------------------------------------------------------------------------
# Synthetic values.

NAMES = ("ROSSI", "BIANCHI", "VERDI", "ESPOSITO", "ROMANO", "COLOMBO", "RICCI", "MARINO")
FIRST = ("MARIO", "GIULIA", "LUCA", "ANNA", "PAOLO", "CHIARA", "MARCO", "ELENA")
MONTHS = "ABCDEHLMPRST"
US_AREAS = ("212", "415", "646", "617", "312", "305")


class Values:
    """Seeded generators; each returns (text to insert, entity type or None)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def digits(self, n: int, first: str = "0123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    # phones
    def _valid_phone(self, make: Callable[[], str], region: str) -> str:
        for _ in range(1000):
            raw = make()
            number = phonenumbers.parse(raw, region)
            kind = phonenumbers.number_type(number)
            if phonenumbers.is_valid_number(number) and kind not in _PUBLISHED:
                return raw
        raise RuntimeError(f"no valid {region} number drawn")

    def mobile_it(self) -> str:
        return self._valid_phone(lambda: f"3{self.digits(2, '2345679')} {self.digits(3)} {self.digits(4)}", "IT")

    def mobile_it_compact(self) -> str:
        return self.mobile_it().replace(" ", "")

    def mobile_it_intl(self) -> str:
        compact = self.mobile_it_compact()
        return f"+39 {compact[:3]} {compact[3:]}"

    def mobile_it_dashed(self) -> str:
        return self.mobile_it().replace(" ", "-")

    def fixed_it(self) -> str:
        return self._valid_phone(
            lambda: self.rng.choice(["02 ", "06 ", "011 ", "051 ", "055 "]) + self.digits(7, "2345678"), "IT"
        )

    def fixed_it_intl(self) -> str:
        return "+39 " + self.fixed_it()

    def phone_us(self) -> str:
        return self._valid_phone(lambda: f"({self.rng.choice(US_AREAS)}) 555-01{self.digits(2)}", "US")

    def phone_us_dashed(self) -> str:
        return self.phone_us().replace("(", "").replace(") ", "-")

    def phone_us_intl(self) -> str:
        return "+1 " + self.phone_us_dashed().replace("-", " ")

    def phone_uk(self) -> str:
        return self._valid_phone(lambda: f"07{self.digits(3, '123456789')} {self.digits(6)}", "GB")

    def phone_uk_intl(self) -> str:
        return "+44 " + self.phone_uk()[1:]

    # bank and identity codes
    def _iban(self, country: str, bban: str) -> str:
        check = iban.calc_check_digits(f"{country}00{bban}")
        value = f"{country}{check}{bban}"
        assert iban.is_valid(value), value
        return value

    def iban_it(self) -> str:
        bban = self.rng.choice(string.ascii_uppercase) + self.digits(10) + self.digits(12)
        return self._iban("IT", bban)

    def iban_it_spaced(self) -> str:
        compact = self.iban_it()
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))

    def iban_it_layout(self) -> str:
        c = self.iban_it()
        return f"{c[:4]} {c[4]} {c[5:10]} {c[10:15]} {c[15:]}"

    def iban_it_lower(self) -> str:
        return self.iban_it().lower()

    def iban_de(self) -> str:
        c = self._iban("DE", self.digits(18))
        return " ".join(c[i:i + 4] for i in range(0, len(c), 4))

    def iban_gb_compact(self) -> str:
        return self._iban("GB", "NWBK" + self.digits(14))

    def iban_gb(self) -> str:
        c = self.iban_gb_compact()
        return " ".join(c[i:i + 4] for i in range(0, len(c), 4))

    def iban_fr(self) -> str:
        for _ in range(1000):
            bban = self.digits(10) + self.digits(11) + self.digits(2)
            value = f"FR00{bban}"
            check = iban.calc_check_digits(value)
            if iban.is_valid(f"FR{check}{bban}"):  # the French RIB key must hold too
                return f"FR{check}{bban}"
        raise RuntimeError("no French IBAN drawn")

    def iban_es(self) -> str:
        for _ in range(1000):
            bban = self.digits(20)
            check = iban.calc_check_digits(f"ES00{bban}")
            if iban.is_valid(f"ES{check}{bban}"):
                c = f"ES{check}{bban}"
                return " ".join(c[i:i + 4] for i in range(0, len(c), 4))
        raise RuntimeError("no Spanish IBAN drawn")

    def cf(self) -> str:
        surname, name = self.rng.choice(NAMES), self.rng.choice(FIRST)
        consonants = lambda w: "".join(ch for ch in w if ch not in "AEIOU") + "XXX"  # noqa: E731
        day = self.rng.randint(1, 28) + self.rng.choice((0, 40))
        place = self.rng.choice("DFHLG") + self.digits(3)
        stem = f"{consonants(surname)[:3]}{consonants(name)[:3]}{self.digits(2)}{self.rng.choice(MONTHS)}{day:02d}{place}"
        value = stem + codicefiscale.calc_check_digit(stem)
        assert codicefiscale.is_valid(value), value
        return value

    def cf_lower(self) -> str:
        return self.cf().lower()

    def piva(self) -> str:
        for _ in range(1000):
            stem = self.digits(7, "0123") + f"{self.rng.randint(1, 100):03d}"
            value = stem + luhn.calc_check_digit(stem)
            if iva.is_valid(value):
                return value
        raise RuntimeError("no partita IVA drawn")

    def piva_it(self) -> str:
        return "IT" + self.piva()

    def cro(self) -> str:
        head = self.digits(9, "123456789")
        return head + f"{int(head) % 13:02d}"

    def cro_bare(self) -> str:
        for _ in range(1000):
            value = self.cro()
            if not _phone_somewhere(value):
                return value
        raise RuntimeError("no CRO drawn")

    def trn(self) -> str:
        return "0306909" + self.digits(21) + "IT"

    def card_visa(self) -> str:
        stem = "4" + self.digits(14)
        return stem + luhn.calc_check_digit(stem)

    def card_visa_spaced(self) -> str:
        c = self.card_visa()
        return " ".join(c[i:i + 4] for i in range(0, 16, 4))

    def card_mc2_dashed(self) -> str:
        stem = str(self.rng.randint(2221, 2720)) + self.digits(11)
        c = stem + luhn.calc_check_digit(stem)
        return "-".join(c[i:i + 4] for i in range(0, 16, 4))

    def card_mc5_spaced(self) -> str:
        stem = "5" + self.rng.choice("12345") + self.digits(13)
        c = stem + luhn.calc_check_digit(stem)
        return " ".join(c[i:i + 4] for i in range(0, 16, 4))

    def card_amex(self) -> str:
        stem = self.rng.choice(("34", "37")) + self.digits(12)
        c = stem + luhn.calc_check_digit(stem)
        return f"{c[:4]} {c[4:10]} {c[10:]}"

    # look-alikes (no entity)
    def toll_free_it(self) -> str:
        return f"800 {self.digits(3)} {self.digits(3)}"

    def shared_cost_it(self) -> str:
        return f"848 {self.digits(3)} {self.digits(3)}"

    def premium_it(self) -> str:
        return f"899 {self.digits(3)} {self.digits(3)}"

    def toll_free_us(self) -> str:
        return f"1-800-{self.digits(3, '23456789')}-{self.digits(4)}"

    def toll_free_us_intl(self) -> str:
        return f"+1 888 {self.digits(3, '23456789')} {self.digits(4)}"

    def toll_free_uk(self) -> str:
        return f"0800 {self.digits(3)} {self.digits(4)}"

    def bad_iban(self) -> str:
        good = self.iban_it()
        return good[:-1] + str((int(good[-1]) + 1) % 10)

    def bad_iban_spaced(self) -> str:
        bad = self.bad_iban()
        return " ".join(bad[i:i + 4] for i in range(0, len(bad), 4))

    def bad_cf(self) -> str:
        good = self.cf()
        return good[:-1] + ("A" if good[-1] != "A" else "B")

    def bad_card(self) -> str:
        good = self.card_visa()
        return good[:-1] + str((int(good[-1]) + 3) % 10)

    def bad_card_spaced(self) -> str:
        bad = self.bad_card()
        return " ".join(bad[i:i + 4] for i in range(0, 16, 4))

    def non_cro11(self) -> str:
        for _ in range(1000):
            value = self.digits(11, "123456789")
            if int(value[:9]) % 13 != int(value[9:]) and not _phone_somewhere(value):
                return value
        raise RuntimeError("no plain 11-digit number drawn")

    def tweet_id(self) -> str:
        return "18" + self.digits(17)

    def tracking_ups(self) -> str:
        return "1Z" + self.digits(3) + "AA" + self.digits(11)


_PUBLISHED = {
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN,
}
PII_KINDS = {
    "mobile_it": "PHONE", "mobile_it_intl": "PHONE", "mobile_it_dashed": "PHONE",
    "fixed_it": "PHONE", "fixed_it_intl": "PHONE", "phone_us": "PHONE",
    "phone_us_dashed": "PHONE", "phone_us_intl": "PHONE", "phone_uk": "PHONE",
    "phone_uk_intl": "PHONE", "iban_it": "IBAN", "iban_it_spaced": "IBAN",
    "iban_it_layout": "IBAN", "iban_it_lower": "IBAN", "iban_de": "IBAN", "iban_gb": "IBAN",
    "iban_gb_compact": "IBAN", "iban_fr": "IBAN", "iban_es": "IBAN", "cf": "IT_FISCAL_CODE",
    "cf_lower": "IT_FISCAL_CODE", "piva": "IT_VAT", "piva_it": "IT_VAT", "cro": "CRO",
    "cro_bare": "CRO", "trn": "TRN", "card_visa": "CARD", "card_visa_spaced": "CARD",
    "card_mc2_dashed": "CARD", "card_mc5_spaced": "CARD", "card_amex": "CARD",
}
LOOKALIKE_KINDS = {
    "toll_free_it", "shared_cost_it", "premium_it", "toll_free_us", "toll_free_us_intl",
    "toll_free_uk", "bad_iban", "bad_iban_spaced", "bad_cf", "bad_card", "bad_card_spaced",
    "non_cro11", "tweet_id", "tracking_ups",
}


def _phone_somewhere(value: str) -> bool:
    for region in ("IT", "US", "GB"):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(value, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def render(template: str, values: Values, allow_pii: bool) -> tuple[str, list[dict[str, object]]]:
    """Fill a template; return the text and its gold entities with computed offsets."""
    out: list[str] = []
    entities: list[dict[str, object]] = []
    cursor = 0
    length = 0
    for match in PLACEHOLDER_RE.finditer(template):
        literal = template[cursor:match.start()]
        out.append(literal)
        length += len(literal)
        if match.group(1):
            kind = match.group(1)
            value = getattr(values, kind)()
            entity_type = PII_KINDS.get(kind)
            if entity_type is None and kind not in LOOKALIKE_KINDS:
                raise KeyError(kind)
        else:
            entity_type, value = match.group(2), match.group(3)
        if entity_type is not None:
            if not allow_pii:
                raise ValueError(f"personal data in a look-alike post: {template!r}")
            entities.append({"type": entity_type, "start": length, "end": length + len(value), "value": value})
        out.append(value)
        length += len(value)
        cursor = match.end()
    out.append(template[cursor:])
    text = "".join(out)
    for entity in entities:
        assert text[entity["start"]:entity["end"]] == entity["value"]  # type: ignore[misc]
    return text, entities


def build() -> list[dict[str, object]]:
    values = Values(SEED)
    rows: list[dict[str, object]] = []
    for kind, posts in (("pii", PII_POSTS), ("lookalike", LOOKALIKE_POSTS)):
        for number, template in enumerate(posts, 1):
            text, entities = render(template, values, allow_pii=kind == "pii")
            if kind == "pii" and not entities:
                raise ValueError(f"no personal data in a pii post: {template!r}")
            rows.append({"id": f"{kind}-{number:03d}", "kind": kind, "text": text, "entities": entities})
    return rows


def serialise(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write(rows: list[dict[str, object]], output: Path, noun: str) -> int:
    """Write the set and say what it holds (this builder's and the tweets' one)."""
    output.write_text(serialise(rows), encoding="utf-8")
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("pii", "lookalike")}
    print(f"wrote {len(rows)} {noun} to {output} ({kinds})")  # noqa: T201
    return 0


def main() -> int:
    return write(build(), OUTPUT, "posts")


if __name__ == "__main__":
    sys.exit(main())
