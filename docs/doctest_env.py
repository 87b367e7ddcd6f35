"""The world every example in the documentation runs in: a local Cognito Sync emulator.

The examples are written the way a user runs them against AWS: ``CognitoEventsClient()``
with no arguments, ``boto3.client("cognito-sync")``, ``cognito-events get POOL``. Before
a page's examples run, :class:`DocsEnvironment` starts a
:class:`cognito_events.testing.Emulator` and points the ``AWS_*`` variables those clients
read at it, so every example really runs and nothing leaves 127.0.0.1. It is used by both
runners of the examples:

* ``sphinx-build -b doctest`` (``doctest_global_setup``/``doctest_global_cleanup`` in
  ``conf.py``, which put this directory on ``sys.path``);
* ``tests/test_docs.py``, which runs the same examples and the ``$ cognito-events`` lines
  of the console transcripts without Sphinx.
"""

from __future__ import annotations

import os

from cognito_events.testing import Emulator

__all__ = ["ARN", "POOL_ID", "REGION", "DocsEnvironment"]

#: The region of every example.
REGION = "us-east-1"
#: The identity pool id the examples use; it exists in the emulator. Any other id does not.
POOL_ID = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
#: The Lambda function ARN the examples bind.
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


def _echo(event: object, context: object) -> object:
    """The examples' function: returns the records as it received them."""
    return event


class DocsEnvironment:
    """An emulator with :data:`POOL_ID` registered, and ``os.environ`` pointing at it.

    :meth:`start` removes every ``AWS_*`` variable of this machine, then sets the
    endpoint, the emulator's key pair, the region, empty shared files and no instance
    metadata; :meth:`stop` puts ``os.environ`` back exactly as it was.
    """

    def __init__(self) -> None:
        self.emulator = Emulator(REGION, identity_pools=[POOL_ID])
        self._saved: dict[str, str] | None = None

    def environ(self) -> dict[str, str]:
        """The variables :meth:`start` sets (the emulator must be running)."""
        credentials = self.emulator.credentials
        return {
            "AWS_ENDPOINT_URL_COGNITO_SYNC": self.emulator.endpoint_url,
            # ensure/check also call Lambda (the function's policy) and STS (the account).
            "AWS_ENDPOINT_URL_LAMBDA": self.emulator.endpoint_url,
            "AWS_ENDPOINT_URL_STS": self.emulator.endpoint_url,
            "AWS_ACCESS_KEY_ID": credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # A proxy configured on this machine must not see the emulator's traffic.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def start(self) -> DocsEnvironment:
        """Start the emulator and point the environment at it; returns self."""
        self.emulator.start()
        # The function the examples bind exists, with no resource policy yet.
        self.emulator.add_lambda_function(ARN, _echo)
        self._saved = dict(os.environ)
        for name in list(os.environ):
            if name.startswith("AWS_"):
                del os.environ[name]
        os.environ.update(self.environ())
        return self

    def stop(self) -> None:
        """Restore ``os.environ`` and stop the emulator."""
        saved, self._saved = self._saved, None
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)
        self.emulator.stop()
