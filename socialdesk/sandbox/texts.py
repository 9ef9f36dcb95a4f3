"""What the simulated customers and the brand say, in Italian and English.

Kept apart from `scenario.py` so the phrase bank can grow without touching the logic.
Personal data is planted only through `PII_PHRASES`, so the scenario knows exactly which
items carry it (and the state endpoint can say so). The identifiers are valid: the IBAN
and the codici fiscali pass their check digits, so detectors that validate find them.
"""

from __future__ import annotations

TOPICS = ("delivery", "refund", "login", "invoice", "thanks", "product")

OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery": {
        "it": (
            "il mio pacco doveva arrivare martedì e ancora niente, il tracking è fermo da giorni",
            "ordinato dieci giorni fa, nessuna consegna e nessuna risposta. Che succede?",
            "il corriere dice consegnato ma a casa non è arrivato nulla 😡",
        ),
        "en": (
            "my parcel was due on Tuesday and it still hasn't arrived, tracking hasn't moved",
            "ordered ten days ago and nothing yet. Any update on the delivery?",
            "courier says delivered but there's nothing at my door 😕",
        ),
    },
    "refund": {
        "it": (
            "ho reso la lampada tre settimane fa e il rimborso non è ancora arrivato",
            "vorrei il rimborso per un articolo arrivato rotto, come devo fare?",
            "mi avete addebitato due volte lo stesso ordine, potete rimborsarmi?",
        ),
        "en": (
            "I returned the lamp three weeks ago and still no refund",
            "how do I get a refund for an item that arrived broken?",
            "I was charged twice for the same order, can you refund one?",
        ),
    },
    "login": {
        "it": (
            "non riesco più ad accedere al mio account, dice password errata ma è giusta",
            "il codice di verifica non arriva mai, sono bloccato fuori dall'app",
            "dopo l'aggiornamento dell'app non riesco a fare login",
        ),
        "en": (
            "I can't log in to my account anymore, it says wrong password but it's right",
            "the verification code never arrives, I'm locked out of the app",
            "since the app update I can't sign in",
        ),
    },
    "invoice": {
        "it": (
            "mi serve la fattura dell'ultimo acquisto intestata alla mia azienda",
            "nella fattura c'è l'indirizzo sbagliato, potete correggerla?",
            "dove trovo le fatture nel mio profilo? non le vedo",
        ),
        "en": (
            "I need an invoice for my last purchase made out to my company",
            "the invoice has the wrong address, can you fix it?",
            "where can I find my invoices in my profile? can't see them",
        ),
    },
    "thanks": {
        "it": (
            "grazie mille per l'aiuto di ieri, problema risolto! 🙏",
            "servizio clienti super, rimborso arrivato in due giorni. Grazie!",
            "volevo solo dire che la consegna è stata velocissima, complimenti",
        ),
        "en": (
            "thanks a lot for the help yesterday, all sorted! 🙏",
            "great customer service, refund arrived in two days. Thank you!",
            "just wanted to say delivery was super quick, well done",
        ),
    },
    "product": {
        "it": (
            "la lampada Aurora è disponibile anche in bianco?",
            "le lampadine del modello Nova sono compatibili con il dimmer?",
            "quando torna disponibile il paralume in lino?",
        ),
        "en": (
            "is the Aurora lamp available in white too?",
            "are the Nova bulbs compatible with a dimmer switch?",
            "when will the linen lampshade be back in stock?",
        ),
    },
}

FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "it": (
        "ancora nessuna novità, potete aggiornarmi?",
        "vi ho scritto ieri ma nessuno mi ha risposto",
        "ok grazie, resto in attesa",
        "fatto, vi ho mandato tutto. Fatemi sapere",
        "scusate ma è passata un'altra settimana...",
    ),
    "en": (
        "still no news, can you update me?",
        "I wrote yesterday and nobody answered",
        "ok thanks, I'll wait",
        "done, sent you everything. Let me know",
        "sorry but another week has gone by...",
    ),
}

BRAND_REPLIES: dict[str, tuple[str, ...]] = {
    "it": (
        "Ciao {first}, ci dispiace per il disagio! Verifichiamo subito e ti aggiorniamo.",
        "Ciao {first}, grazie per la segnalazione: ti abbiamo scritto in privato.",
        "Ciao {first}, il nostro team se ne sta occupando. A presto!",
    ),
    "en": (
        "Hi {first}, sorry about that! We're checking right away and will update you.",
        "Hi {first}, thanks for letting us know: we've sent you a private message.",
        "Hi {first}, our team is on it. Talk soon!",
    ),
}

PRIVATE_DETAILS: dict[str, tuple[str, ...]] = {
    "it": (
        "il numero d'ordine è {order}",
        "vi lascio l'ordine {order} così lo trovate",
        "",
    ),
    "en": (
        "the order number is {order}",
        "here's my order {order} so you can find it",
        "",
    ),
}

# One phrase per kind of personal data, named by the DESIGN.md entity type it plants.
PII_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "PHONE": {
        "it": ("richiamatemi al +39 347 123 4567", "il mio cellulare è +39 347 123 4567"),
        "en": ("call me back on +39 347 123 4567", "my mobile is +39 347 123 4567"),
    },
    "EMAIL": {
        "it": ("scrivetemi a {email}", "la mia mail è {email}"),
        "en": ("email me at {email}", "my email is {email}"),
    },
    "IBAN": {
        "it": (
            "rimborsate su IT60X0542811101000000123456",
            "il mio IBAN è IT60 X054 2811 1010 0000 0123 456",
        ),
        "en": (
            "refund to IT60X0542811101000000123456",
            "my IBAN is IT60 X054 2811 1010 0000 0123 456",
        ),
    },
    "IT_FISCAL_CODE": {
        "it": (
            "il mio codice fiscale è {fiscal_code}",
            "codice fiscale {fiscal_code} per la fattura",
        ),
        "en": ("my codice fiscale is {fiscal_code}", "tax code {fiscal_code} for the invoice"),
    },
    "REFERENCE": {
        "it": ("ordine n. {order}", "è l'ordine n. {order}"),
        "en": ("order no. {order}", "it's order number {order}"),
    },
}

FISCAL_CODES = ("RSSMRA85T10A562S", "BNCLRA90A41H501F", "VRDGPP80C15F205P")

PAGE_POSTS = (
    "Nuova collezione autunno: lampade in lino e ottone, spedizione gratuita fino a domenica!",
    "Orari del servizio clienti durante le feste: 9-13 dal 24 al 26 dicembre.",
    "Vi presentiamo Aurora, la lampada da tavolo ricaricabile. Cosa ne pensate?",
    "Black Friday: -30% su tutto il catalogo, solo online.",
    "Lavori in magazzino: le spedizioni di questa settimana potrebbero tardare di un giorno.",
)

BRAND_TWEETS = (
    "Da oggi il servizio clienti risponde anche la domenica, 10-18. Scriveteci qui!",
    "Black Friday: -30% su tutto il catalogo fino a lunedì.",
    "Lavori in magazzino: le spedizioni di questa settimana potrebbero tardare di un giorno.",
)

FIRST_NAMES = {
    "it": (
        "Giulia",
        "Marco",
        "Francesca",
        "Luca",
        "Chiara",
        "Alessandro",
        "Sara",
        "Matteo",
        "Elena",
        "Davide",
        "Martina",
        "Simone",
        "Valentina",
        "Andrea",
        "Federica",
        "Paolo",
    ),
    "en": (
        "Emma",
        "James",
        "Olivia",
        "Jack",
        "Sophie",
        "Harry",
        "Amelia",
        "Daniel",
        "Grace",
        "Thomas",
        "Lucy",
        "Ryan",
    ),
}
LAST_NAMES = {
    "it": (
        "Rossi",
        "Bianchi",
        "Esposito",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "De Luca",
        "Costa",
        "Fontana",
    ),
    "en": (
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Evans",
        "Walker",
        "Hughes",
        "Clarke",
    ),
}

ME_TOO: dict[str, tuple[str, ...]] = {
    "it": ("stesso problema anche per me", "anche a me, qualcuno risponde?"),
    "en": ("same problem here", "me too, is anyone answering?"),
}
