"""The automatic acknowledgement: one private message per new conversation saying by when
the answer will come, computed from the published hours (seed 004).

Private channels only (direct messages): in public it would be noise and against platform
policy. Once per conversation: a reopened one gets none. Only for conversations opened
recently, so the first sync of an account never writes to customers of last month. It goes
through the outbox as an automated reply, so each platform's reply window is checked there
and no human-agent extension is ever used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, select

from connectors.base import Direction, Visibility
from socialdesk.config import Settings
from socialdesk.desk import answers
from socialdesk.errors import SocialdeskError
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.service.hours import BusinessHours, acknowledgement_text
from socialdesk.store.models import (
    ACKNOWLEDGEMENT_ACTOR,
    Conversation,
    Status,
)
from socialdesk.store.tables import CONVERSATION, MESSAGE, OUTBOX

log = logging.getLogger(__name__)

ACK_ACTOR = ACKNOWLEDGEMENT_ACTOR
"""Who the audit log and the outbox name as the author of acknowledgements."""
_WORDS = re.compile(r"[a-zàèéìòù']+")
LANGUAGE_WORDS = {
    "it": frozenset("il lo la gli le di che non per una sono ho mi ciao grazie buongiorno "
                    "buonasera salve come del della con ordine quando perché è ancora "
                    "vorrei posso mio mia sto".split()),
    "en": frozenset("the and is my you to of for not hi hello thanks thank please order when "
                    "why it have with can i'm still would could me".split()),
}
"""Common words of the two languages the default templates speak."""


def guess_language(text: str, default: str) -> str:
    """Italian or English by their commonest words; `default` on a tie or neither."""
    words = _WORDS.findall(text.lower())
    scores = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in
              LANGUAGE_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    ties = [lang for lang, score in scores.items() if score == scores[best]]
    return best if scores[best] and len(ties) == 1 else default


def acknowledge_new(
    engine: Engine,
    settings: Settings,
    hours: BusinessHours,
    conversation_ids: Iterable[int],
    now: datetime,
) -> list[int]:
    """Queue one acknowledgement for each of `conversation_ids` that needs one; their ids."""
    config = settings.acknowledgement
    if not config.enabled:
        return []
    acknowledged = []
    waiting = _waiting(engine, sorted(set(conversation_ids)), now, config.max_age_minutes)
    for conversation in waiting:
        text = _text(engine, settings, hours, conversation, now)
        try:
            answers.reply(engine, conversation.id or 0, text, ACK_ACTOR, settings=settings,
                        automated=True, now=lambda: now)
        except (ChannelRuleError, SocialdeskError) as error:
            log.info("no acknowledgement for conversation %s: %s", conversation.id, error)
            continue
        acknowledged.append(conversation.id or 0)
    return acknowledged


def _waiting(
    engine: Engine, conversation_ids: list[int], now: datetime, max_age_minutes: int
) -> list[Conversation]:
    """Private, new, opened recently, with a due time and no acknowledgement queued before."""
    if not conversation_ids:
        return []
    already = exists().where(OUTBOX.c.conversation_id == CONVERSATION.c.id,
                             OUTBOX.c.requested_by == ACK_ACTOR)
    statement = select(CONVERSATION).where(
        CONVERSATION.c.id.in_(conversation_ids),
        CONVERSATION.c.visibility == Visibility.PRIVATE.value,
        CONVERSATION.c.status == Status.NEW,
        CONVERSATION.c.first_response_due_at.is_not(None),
        CONVERSATION.c.opened_at >= now - timedelta(minutes=max_age_minutes),
        CONVERSATION.c.sla_started_at == CONVERSATION.c.opened_at,
        ~already,
    )
    with engine.connect() as connection:
        return [Conversation.model_validate(dict(row._mapping))
                for row in connection.execute(statement)]


def _text(engine: Engine, settings: Settings, hours: BusinessHours,
          conversation: Conversation, now: datetime) -> str:
    config = settings.acknowledgement
    with engine.connect() as connection:
        said = connection.execute(
            select(MESSAGE.c.text).where(MESSAGE.c.conversation_id == conversation.id,
                                         MESSAGE.c.direction == Direction.INBOUND.value)
        ).scalars().all()
    language = guess_language(" ".join(said), config.default_language)
    template = config.templates.get(language) or config.templates[config.default_language]
    assert conversation.first_response_due_at is not None
    return acknowledgement_text(template, hours, conversation.first_response_due_at, now,
                                language)


