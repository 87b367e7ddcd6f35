"""The Lambda function bound to the pool's SyncTrigger: validate and rewrite a sync."""

from typing import Any

from cognito_events.trigger import SyncTriggerEvent, sync_trigger

MAX_SCORE = 100


@sync_trigger
def handler(event: SyncTriggerEvent, context: Any) -> SyncTriggerEvent:
    """Clamp ``score``, refuse to store ``cheat`` (delete it instead), and award a badge."""
    for key, change in event.records.items():
        if key == "score" and change.op == "replace" and change.new_value is not None:
            if not change.new_value.isdigit():
                event = event.drop(key)  # keep the stored value
            elif int(change.new_value) > MAX_SCORE:
                event = event.replace(key, str(MAX_SCORE))
        elif key == "cheat":
            event = event.remove(key)
    if "score" in event.records and "badge" not in event.records:
        event = event.replace("badge", "scorer")
    return event
