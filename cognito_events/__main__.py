"""``python -m cognito_events``: the ``cognito-events`` command line."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
