"""Sends of the X connector: replies, DMs, hides, and finding them again after a doubt.

A write is tried once, never retried: a write retried after a timeout could post twice.
When its outcome is unknown, `find_sent` looks for it among the account's own posts or
the conversation's events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import tweepy  # type: ignore[import-untyped]

from connectors._http import Redactor, write_failure
from connectors._payload import data_list, str_or_none
from connectors.base import (
    ActionKind,
    Channel,
    FatalAPIError,
    OutboundAction,
    ReconcileUnsupported,
    RetriableAPIError,
    SendOutcomeUnknown,
    SendReceipt,
)
from connectors.x_errors import (
    NETWORK_READ_ERRORS,
    NETWORK_WRITE_ERRORS,
    DuplicatePost,
    XErrors,
    forbidden,
    status_of,
)
from connectors.x_parse import DM_EVENT_FIELDS, MESSAGE_CREATE, parse_x_time, replied_to

RECONCILE_SLACK = timedelta(minutes=2)
"""Clocks differ: look a little before the moment the action was queued."""


class XSender:
    """The write side of `XConnector`: replies, DMs, hides, and finding them again."""

    user_id: str
    client: Any
    redactor: Redactor
    errors: XErrors
    now: Callable[[], datetime]

    def send(self, action: OutboundAction) -> SendReceipt:
        if action.kind is ActionKind.REPLY:
            return self._send_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE:
            return self._send_dm(action)
        if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
            return self._send_hide(action)
        raise FatalAPIError(
            "X has no private reply to a post; send a direct message to the author instead"
        )

    def _send_reply(self, action: OutboundAction) -> SendReceipt:
        """A reply; X's refusal of repeated text is checked against our own recent posts."""
        try:
            body = self._write(
                self.client.create_tweet, "reply", text=action.text,
                in_reply_to_tweet_id=action.target_id, user_auth=True,
            )
        except DuplicatePost as duplicate:
            found = self.find_sent(action)
            if found is not None:
                return found
            raise FatalAPIError(str(duplicate)) from None
        tweet_id = str_or_none(_data_object(body).get("id"))
        if tweet_id is None:
            raise SendOutcomeUnknown("X accepted the reply but answered without its id")
        return SendReceipt(tweet_id, Channel.MENTION, created_at=self.now(), raw=_data_object(body))

    def _send_dm(self, action: OutboundAction) -> SendReceipt:
        """To the participant when known (X's one-to-one endpoint), else to the conversation."""
        target = ({"participant_id": action.recipient_id} if action.recipient_id
                  else {"dm_conversation_id": action.thread_key})
        body = self._write(self.client.create_direct_message, "direct message",
                           text=action.text, user_auth=True, **target)
        data = _data_object(body)
        event_id = str_or_none(data.get("dm_event_id"))
        if event_id is None:
            raise SendOutcomeUnknown("X accepted the direct message but answered without its id")
        thread = str_or_none(data.get("dm_conversation_id")) or action.thread_key
        return SendReceipt(event_id, Channel.DM, thread, created_at=self.now(), raw=data)

    def _send_hide(self, action: OutboundAction) -> SendReceipt:
        method = (self.client.hide_reply if action.kind is ActionKind.HIDE
                  else self.client.unhide_reply)
        body = self._write(method, action.kind.value, id=action.target_id, user_auth=True)
        if _data_object(body).get("hidden") is not (action.kind is ActionKind.HIDE):
            raise SendOutcomeUnknown(f"X answered the {action.kind.value} without its new state")
        return SendReceipt(None, raw=_data_object(body))

    def find_sent(self, action: OutboundAction) -> SendReceipt | None:
        """Our reply among our recent posts, or our DM among the conversation's events."""
        if action.kind is ActionKind.REPLY:
            return self._find_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE:
            return self._find_dm(action)
        raise ReconcileUnsupported(f"X cannot tell whether a {action.kind.value} happened")

    def _find_reply(self, action: OutboundAction) -> SendReceipt | None:
        body = self._read(
            self.client.get_users_tweets, "own posts", id=self.user_id, max_results=100,
            tweet_fields=["created_at", "conversation_id", "referenced_tweets"],
            start_time=_reconcile_start(action), user_auth=True,
        )
        for tweet in data_list(body):
            if (isinstance(tweet, dict) and replied_to(tweet) == action.target_id
                    and same_text(tweet.get("text"), action.text)):
                return SendReceipt(str(tweet["id"]), Channel.MENTION,
                                   created_at=parse_x_time(tweet.get("created_at")), raw=tweet)
        return None

    def _find_dm(self, action: OutboundAction) -> SendReceipt | None:
        where = ({"participant_id": action.recipient_id} if action.recipient_id
                 else {"dm_conversation_id": action.thread_key})
        body = self._read(
            self.client.get_direct_message_events, "direct messages",
            dm_event_fields=DM_EVENT_FIELDS, event_types=MESSAGE_CREATE, max_results=100,
            user_auth=True, **where,
        )
        start = _reconcile_start(action)
        for event in data_list(body):
            if not isinstance(event, dict) or event.get("sender_id") != self.user_id:
                continue
            created = parse_x_time(event.get("created_at"))
            if same_text(event.get("text"), action.text) and (
                    start is None or created is None or created >= start):
                return SendReceipt(str(event["id"]), Channel.DM,
                                   str_or_none(event.get("dm_conversation_id")),
                                   created_at=created, raw=event)
        return None

    def _write(self, method: Callable[..., Any], what: str, **params: Any) -> dict[str, Any]:
        """One attempt, no retry: a write retried after a timeout could post twice."""
        try:
            response = method(**params)
        except tweepy.TwitterServerError as exc:
            raise RetriableAPIError(f"X {what}: server error {status_of(exc)}") from None
        except tweepy.Forbidden as exc:
            raise forbidden(exc, what, self.redactor) from None
        except tweepy.HTTPException as exc:
            raise self.errors.from_http(exc, what) from None
        except NETWORK_WRITE_ERRORS as exc:
            raise write_failure(exc, f"X {what}", self.redactor) from None
        try:
            body = response.json()
        except ValueError:
            raise SendOutcomeUnknown(f"X {what}: the answer is not JSON") from None
        return body if isinstance(body, dict) else {}

    def _read(self, method: Callable[..., Any], what: str, **params: Any) -> dict[str, Any]:
        try:
            response = method(**params)
            body = response.json()
        except tweepy.TwitterServerError as exc:
            raise RetriableAPIError(f"X {what}: server error {status_of(exc)}") from None
        except tweepy.HTTPException as exc:
            raise self.errors.from_http(exc, what) from None
        except NETWORK_READ_ERRORS as exc:
            raise RetriableAPIError(f"X {what}: {type(exc).__name__}") from None
        return body if isinstance(body, dict) else {}


def same_text(found: Any, sent: str | None) -> bool:
    """Equal up to whitespace: the platform may trim or fold spaces."""
    return isinstance(found, str) and sent is not None and found.split() == sent.split()


def _reconcile_start(action: OutboundAction) -> datetime | None:
    """The earliest moment a sent action can carry: when it was queued, less the slack."""
    return action.not_before - RECONCILE_SLACK if action.not_before else None


def _data_object(body: Mapping[str, Any]) -> dict[str, Any]:
    """`data` of a write's answer, when it is the object a write returns."""
    data = body.get("data")
    return data if isinstance(data, dict) else {}

