"""Sends of the Facebook connector: comment replies, hides, private replies, Messenger.

A write is tried once, never retried: a write retried after a timeout could be performed
twice. When its outcome is unknown, `find_sent` looks for it among the target's replies
or in the Messenger thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors._http import Redactor, TransientFailure, write_failure
from connectors._payload import data_list, str_or_none
from connectors.base import (
    ActionKind,
    Channel,
    ConnectorError,
    FatalAPIError,
    MalformedPayload,
    OutboundAction,
    ReconcileUnsupported,
    SendOutcomeUnknown,
    SendReceipt,
)
from connectors.facebook_errors import GraphErrors, write_refusal
from connectors.facebook_parse import author_id_or_none, parse_graph_time

log = logging.getLogger(__name__)

WRITE_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
)

RECONCILE_SLACK = timedelta(minutes=2)
"""Clocks differ: look a little before the moment the action was queued."""


class GraphSender:
    """The write side of `FacebookConnector`: comment replies, hides, private replies,
    Messenger messages, and finding them again after a doubtful send."""

    page_id: str
    root: str
    token: str
    session: requests.Session
    redactor: Redactor
    now: Callable[[], datetime]
    errors: GraphErrors
    _get: Callable[..., tuple[dict[str, Any], Mapping[str, str]]]

    def send(self, action: OutboundAction) -> SendReceipt:
        if action.kind is ActionKind.REPLY:
            body = self._post(f"{action.target_id}/comments", "comment reply",
                              {"message": action.text or ""})
            return SendReceipt(self._new_id(body, "id", "comment reply"), Channel.COMMENT,
                               created_at=self.now(), raw=body)
        if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
            hidden = "true" if action.kind is ActionKind.HIDE else "false"
            body = self._post(str(action.target_id), action.kind.value, {"is_hidden": hidden})
            if body.get("success") is not True:
                raise SendOutcomeUnknown(f"Graph {action.kind.value}: no success in the answer")
            return SendReceipt(None, raw=body)
        if action.kind is ActionKind.PRIVATE_REPLY:
            return self._send_private_reply(action)
        return self._send_messenger(action)

    def _send_private_reply(self, action: OutboundAction) -> SendReceipt:
        """One message per comment or visitor post, within 7 days of it (Meta: private replies)."""
        key = "post_id" if action.target_channel is Channel.VISITOR_POST else "comment_id"
        body = self._post(f"{self.page_id}/messages", "private reply", {
            "recipient": json.dumps({key: action.target_id}),
            "message": json.dumps({"text": action.text or ""}),
            "messaging_type": "RESPONSE",
        })
        message_id = self._new_id(body, "message_id", "private reply")
        person = str_or_none(body.get("recipient_id")) or action.recipient_id
        return SendReceipt(message_id, Channel.MESSENGER, self._conversation_of(person),
                           created_at=self.now(), raw=body)

    def _send_messenger(self, action: OutboundAction) -> SendReceipt:
        """RESPONSE inside 24 h of the person's last message; MESSAGE_TAG + HUMAN_AGENT after."""
        params = {
            "recipient": json.dumps({"id": action.recipient_id}),
            "message": json.dumps({"text": action.text or ""}),
            "messaging_type": action.messaging_type or "RESPONSE",
        }
        if action.tag:
            params["tag"] = action.tag
        body = self._post(f"{self.page_id}/messages", "Messenger message", params)
        message_id = self._new_id(body, "message_id", "Messenger message")
        thread = action.thread_key or self._conversation_of(action.recipient_id)
        return SendReceipt(message_id, Channel.MESSENGER, thread, created_at=self.now(), raw=body)

    def _conversation_of(self, person: str | None) -> str | None:
        """The Messenger conversation with `person`, where the sent message lands; best effort."""
        if not person:
            return None
        try:
            body, _ = self._get(f"{self.root}/{self.page_id}/conversations",
                                [("platform", "messenger"), ("user_id", person),
                                 ("fields", "id")], what="conversation lookup")
        except ConnectorError as error:
            log.info("conversation of a sent message not found: %s", error)
            return None
        found = data_list(body)
        return str_or_none(found[0].get("id")) if found and isinstance(found[0], dict) else None

    def find_sent(self, action: OutboundAction) -> SendReceipt | None:
        """Our comment among the target's replies, or our message in the Messenger thread."""
        if action.kind is ActionKind.REPLY:
            return self._find_comment(action)
        if action.kind is ActionKind.PRIVATE_REPLY:
            return self._find_private_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE and action.thread_key:
            return self._find_message(action.thread_key, action)
        raise ReconcileUnsupported(f"Graph cannot tell whether this {action.kind.value} happened")

    def _find_comment(self, action: OutboundAction) -> SendReceipt | None:
        """Graph threads a reply to a reply under the top-level comment: look under both."""
        for node in dict.fromkeys([action.target_id, action.thread_key]):
            if not node:
                continue
            body, _ = self._get(f"{self.root}/{node}/comments", [
                ("filter", "stream"), ("order", "reverse_chronological"), ("limit", "100"),
                ("fields", "id,message,created_time,from")], what="comments")
            found = self._own(data_list(body), "message", action)
            if found is not None:
                return SendReceipt(str(found["id"]), Channel.COMMENT, created_at=parse_graph_time(
                    found.get("created_time")), raw=found)
        return None

    def _find_private_reply(self, action: OutboundAction) -> SendReceipt | None:
        """A comment names its `private_reply_conversation` once one was sent; a visitor
        post does not, so its author's conversation is searched (inference)."""
        conversation: str | None = None
        if action.target_channel is not Channel.VISITOR_POST:
            body, _ = self._get(f"{self.root}/{action.target_id}",
                                [("fields", "private_reply_conversation")], what="comment")
            linked = body.get("private_reply_conversation")
            conversation = str_or_none(linked.get("id")) if isinstance(linked, dict) else None
            if conversation is None:
                return None
        conversation = conversation or self._conversation_of(action.recipient_id)
        if conversation is None:
            raise ReconcileUnsupported("Graph names no conversation for this visitor post")
        return self._find_message(conversation, action)

    def _find_message(self, conversation: str, action: OutboundAction) -> SendReceipt | None:
        body, _ = self._get(f"{self.root}/{conversation}/messages",
                            [("fields", "id,message,from,created_time"), ("limit", "50")],
                            what="messages")
        found = self._own(data_list(body), "message", action)
        if found is None:
            return None
        return SendReceipt(str(found["id"]), Channel.MESSENGER, conversation,
                           created_at=parse_graph_time(found.get("created_time")), raw=found)

    def _own(self, objects: list[Any], text_key: str,
             action: OutboundAction) -> dict[str, Any] | None:
        """The first object by the Page with the action's text, not older than the action."""
        start = action.not_before - RECONCILE_SLACK if action.not_before else None
        for candidate in objects:
            if not isinstance(candidate, dict) or author_id_or_none(candidate) != self.page_id:
                continue
            created = parse_graph_time(candidate.get("created_time"))
            text = candidate.get(text_key)
            if (isinstance(text, str) and action.text is not None
                    and text.split() == action.text.split()
                    and (start is None or created is None or created >= start)):
                return candidate
        return None

    def _post(self, path: str, what: str, params: dict[str, str]) -> dict[str, Any]:
        """One POST, no retry: a write retried after a timeout could be performed twice."""
        url = f"{self.root}/{path}"
        try:
            response = self.session.post(url, data={**params, "access_token": self.token})
        except WRITE_NETWORK_ERRORS as exc:
            raise write_failure(exc, f"Graph {what}", self.redactor) from None
        try:
            return self.errors.read(response, what)
        except TransientFailure as failure:
            if isinstance(failure.error, MalformedPayload):
                raise SendOutcomeUnknown(f"Graph {what}: the answer is not JSON") from None
            raise failure.error from None
        except FatalAPIError as error:
            raise FatalAPIError(write_refusal(str(error), what)) from None

    @staticmethod
    def _new_id(body: Mapping[str, Any], key: str, what: str) -> str:
        new_id = str_or_none(body.get(key))
        if new_id is None:
            raise SendOutcomeUnknown(f"Graph accepted the {what} but answered without its id")
        return new_id


