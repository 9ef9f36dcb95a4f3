"""X's wire shapes for the emulator's answers: tweets, DM events, users and their includes.

Only the fields a request names in `tweet.fields`, `dm_event.fields` and `user.fields`
are rendered, as X does; `expansions` decide which users and tweets go in `includes`.
"""

from __future__ import annotations

import re
from typing import Any

from socialdesk.sandbox.state import DMEvent, Store, Tweet, XUser
from socialdesk.sandbox.wire import Request, encode_cursor, x_time
from socialdesk.sandbox.x_problems import fields


class XRendering:
    """Renders the shared store's X objects; mixed into `XApi`."""

    store: Store

    def _tweet_page(self, request: Request, page: list[Tweet], more: bool) -> dict[str, Any]:
        if not page:
            return {"meta": {"result_count": 0}}
        tweet_fields = fields(request, "tweet.fields") | fields(request, "post.fields")
        body: dict[str, Any] = {"data": [self._tweet_json(t, tweet_fields) for t in page]}
        includes = self._tweet_includes(request, page, tweet_fields)
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if more:
            meta["next_token"] = encode_cursor("mentions", page[-1].id)
        body["meta"] = meta
        return body

    def _tweet_includes(
        self, request: Request, page: list[Tweet], tweet_fields: set[str]
    ) -> dict[str, Any]:
        expansions = fields(request, "expansions")
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids += [t.author_id for t in page]
        if "in_reply_to_user_id" in expansions:
            user_ids += [t.in_reply_to_user_id for t in page if t.in_reply_to_user_id]
        includes: dict[str, Any] = {}
        users = self._users_json(user_ids, fields(request, "user.fields"))
        if users:
            includes["users"] = users
        if "referenced_tweets.id" in expansions:
            referenced = [
                self.store.tweets[t.replied_to_id]
                for t in page
                if t.replied_to_id in self.store.tweets
            ]
            if referenced:
                includes["tweets"] = [self._tweet_json(t, tweet_fields) for t in referenced]
        return includes

    def _tweet_json(self, tweet: Tweet, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        optional: dict[str, Any] = {
            "author_id": tweet.author_id,
            "created_at": x_time(tweet.created_at),
            "conversation_id": tweet.conversation_id,
            "in_reply_to_user_id": tweet.in_reply_to_user_id,
            "referenced_tweets": (
                [{"type": "replied_to", "id": tweet.replied_to_id}] if tweet.replied_to_id else None
            ),
            "lang": tweet.lang,
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
            "entities": self._entities(tweet),
        }
        for name in sorted(wanted & set(optional)):
            if optional[name] is not None:
                out[name] = optional[name]
        return out

    def _entities(self, tweet: Tweet) -> dict[str, Any] | None:
        by_name = {u.username.lower(): u for u in self.store.x_users.values()}
        mentions = []
        for found in re.finditer(r"@(\w{1,15})", tweet.text):
            user = by_name.get(found.group(1).lower())
            entry = {"start": found.start(), "end": found.end(), "username": found.group(1)}
            if user:
                entry["id"] = user.id
            mentions.append(entry)
        return {"mentions": mentions} if mentions else None

    def _event_json(self, event: DMEvent, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": event.id, "event_type": event.event_type}
        if event.text is not None:
            out["text"] = event.text
        optional = {
            "sender_id": event.sender_id,
            "created_at": x_time(event.created_at),
            "dm_conversation_id": event.dm_conversation_id,
            "participant_ids": list(event.participant_ids) or None,
        }
        for name in sorted(wanted & set(optional)):
            if optional[name] is not None:
                out[name] = optional[name]
        return out

    def _dm_users(self, request: Request, page: list[DMEvent]) -> list[dict[str, Any]]:
        expansions = fields(request, "expansions")
        user_ids: list[str] = []
        if "sender_id" in expansions:
            user_ids += [e.sender_id for e in page]
        if "participant_ids" in expansions:
            user_ids += [p for e in page for p in e.participant_ids]
        return self._users_json(user_ids, fields(request, "user.fields"))

    def _users_json(self, user_ids: list[str], wanted: set[str]) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for user_id in user_ids:
            user = self.store.x_users.get(user_id)
            if user is not None and user_id not in seen:
                seen[user_id] = self._user_json(user, wanted)
        return list(seen.values())

    @staticmethod
    def _user_json(user: XUser, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        optional = {
            "created_at": x_time(user.created_at),
            "description": "",
            "protected": False,
            "verified": False,
            "profile_image_url": "https://pbs.twimg.com/profile_images/default_normal.png",
        }
        for name in sorted(wanted & set(optional)):
            out[name] = optional[name]
        return out

