"""The boundary with ``requests``: one place where its exceptions become ours.

Everything the client sends goes through ``Session.send`` (so requests-mock and custom
adapters see it), with settings resolved once instead of on every call.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping

import requests
import urllib3.exceptions

from ._errors import TransportError

__all__ = ["HttpAnswer", "environ_proxies", "resolve_proxies", "resolve_verify", "send"]

HttpAnswer = tuple[int, Mapping[str, str], bytes]


def environ_proxies(session: requests.Session) -> dict[str, str]:
    """The ``*_PROXY`` variables (``NO_PROXY`` as ``"no"``) as they are now; read once."""
    return urllib.request.getproxies() if session.trust_env else {}


def resolve_proxies(
    session: requests.Session, url: str, environ_proxies: Mapping[str, str]
) -> dict[str, str]:
    """The proxies ``requests`` would use for ``url``, from a snapshot of the variables."""
    proxies = dict(session.proxies)
    if environ_proxies and not requests.utils.should_bypass_proxies(
        url, no_proxy=environ_proxies.get("no", "")
    ):
        for scheme, address in environ_proxies.items():
            if scheme != "no":
                proxies.setdefault(scheme, address)
    return proxies


def resolve_verify(session: requests.Session) -> bool | str:
    """TLS verification as ``requests`` would resolve it (``REQUESTS_CA_BUNDLE`` and kin)."""
    verify: bool | str = True if session.verify is None else session.verify
    if verify is True and session.trust_env:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            return bundle
    return verify


# Failures to build the request at all: sending it again cannot help.
_LOCAL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.URLRequired,
    requests.exceptions.InvalidJSONError,
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return "read timeout"
    if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
        # requests wraps a timeout while reading the body in a plain ConnectionError.
        return "read timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy error"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.HTTPError):
        return "connection broken while reading the response"
    return "request failed"


def send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    timeout: tuple[float, float],
    proxies: dict[str, str],
    verify: bool | str,
    operation: str,
    hint: str | None = None,
) -> HttpAnswer:
    """Send one prepared request; return (status, headers, body) or raise ``TransportError``."""
    try:
        response = session.send(
            request,
            timeout=timeout,
            allow_redirects=False,
            proxies=proxies,
            verify=verify,
            stream=False,
            cert=session.cert,
        )
        return response.status_code, response.headers, response.content
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # Its message quotes the header value, which may be a token: never echo it.
            detail = "a header value cannot be sent over HTTP"
        else:
            detail = str(exc) or type(exc).__name__
        raise TransportError(
            f"{operation} got no response from {_origin(request.url)}: {_describe(exc)} ({detail})"
            + (f". {hint}" if hint else ""),
            retryable=not isinstance(exc, _LOCAL_ERRORS),
        ) from exc


def _origin(url: str | None) -> str:
    if not url:
        return "the endpoint"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
