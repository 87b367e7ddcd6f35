"""AWS STS, as far as a client needs it to learn its account: ``GetCallerIdentity``.

STS speaks the query protocol: ``POST /`` with a form body naming the ``Action`` and
``Version``, answered in XML; its errors are XML too (the handler writes them).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ._common import Answer, Context, Request, ServiceError

__all__ = ["OPERATIONS", "XML_CONTENT_TYPE"]

XML_CONTENT_TYPE: Final = "text/xml"
_NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
_VERSION: Final = "2011-06-15"


def _form(request: Request) -> dict[str, list[str]]:
    content_type = (request.header("content-type") or "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ServiceError(
            400,
            "InvalidParameterValue",
            "STS takes a form body: send Content-Type application/x-www-form-urlencoded",
        )
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(400, "MalformedQueryString", "The form body is not UTF-8") from None
    form = parse_qs(text, keep_blank_values=True)
    for name, values in request.query.items():
        form.setdefault(name, values)
    return form


def _get_caller_identity(context: Context, request: Request) -> Answer:
    form = _form(request)
    action = form.get("Action", [""])[-1]
    if action != "GetCallerIdentity":
        raise ServiceError(
            400,
            "InvalidAction",
            f"Could not find operation {action or '(none)'} for version "
            f"{form.get('Version', [''])[-1] or '(none)'}: this emulator answers only "
            "GetCallerIdentity",
        )
    if form.get("Version", [""])[-1] != _VERSION:
        raise ServiceError(
            400, "InvalidParameterValue", f"Version must be {_VERSION} for GetCallerIdentity"
        )
    account = context.account_id
    key = request.caller.access_key_id or ""
    body = (
        f'<GetCallerIdentityResponse xmlns="{_NAMESPACE}">'
        "<GetCallerIdentityResult>"
        f"<Arn>arn:aws:iam::{account}:user/cognito-events-emulator</Arn>"
        f"<UserId>{escape(key)}</UserId>"
        f"<Account>{account}</Account>"
        "</GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return Answer(200, body.encode(), (("Content-Type", XML_CONTENT_TYPE),))


def error_body(code: str, message: str) -> bytes:
    """STS's XML error document."""
    return (
        f'<ErrorResponse xmlns="{_NAMESPACE}"><Error>'
        f"<Type>{'Receiver' if code.startswith('Internal') else 'Sender'}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        "</Error><RequestId>emulator</RequestId></ErrorResponse>"
    ).encode()


def _developers_only(context: Context, request: Request) -> Answer:
    if request.caller.kind != "developer":
        raise ServiceError(
            403,
            "AccessDenied",
            "Only developer credentials may call STS in this emulator",
        )
    return _get_caller_identity(context, request)


OPERATIONS: Final = {"GetCallerIdentity": _developers_only}
