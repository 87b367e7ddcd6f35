"""Keep the sync trigger of an identity pool pointing at the right function."""

from cognito_events import SYNC_TRIGGER, CognitoEventsClient

#: Made at import, like many module-level clients; it resolves its settings at its
#: first call and keeps them.
client = CognitoEventsClient()


def ensure_sync_trigger(pool_id: str, function_arn: str) -> bool:
    """Bind ``function_arn`` to the pool's sync trigger unless it already is.

    Returns True when the binding changed.
    """
    if client.get_cognito_events(pool_id).get(SYNC_TRIGGER) == function_arn:
        return False
    client.set_cognito_events(pool_id, {SYNC_TRIGGER: function_arn})
    return True
