"""HTTP calls of ``http`` steps and readiness checks, without proxies for local addresses."""

from __future__ import annotations

import urllib.parse

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def request(
    method: str, url: str, headers: dict[str, str], body: str | None, timeout: float
) -> tuple[int, str, str | None]:
    """Status, body text and an error description (None when an answer came back)."""
    # urllib.request brings http.client, ssl and email: loaded by the first HTTP call only.
    import urllib.error
    import urllib.request

    data = None if body is None else body.encode()
    call = urllib.request.Request(url, data=data, headers=headers, method=method)
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers: list[urllib.request.BaseHandler] = []
    if host in LOCAL_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(call, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), None
    except urllib.error.URLError as exc:
        return 0, "", str(exc.reason)
    except (OSError, ValueError) as exc:
        return 0, "", str(exc) or type(exc).__name__
