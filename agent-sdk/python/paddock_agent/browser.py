"""Browsers of the exec's session, driven through the host (the jail itself has no network).

A browser opened here is the session's, as if opened with the host API's BrowserService: the same
limits, budgets and egress allow-list, listed there, closed with the session. Its pages reach only
what the tenant's egress allows; a refused page loads the proxy's 403 answer and is audited.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import _ops
from ._ops import Evaluation, Navigation


class Browser:
    """One browser of the session. Use it as a context manager to close it when done::

        with paddock_agent.open_browser() as browser:
            browser.navigate("https://example.com/")
            png = browser.screenshot()
    """

    def __init__(self, call: Callable[..., Any], browser_id: str, provider: str) -> None:
        self._call = call
        self.id = browser_id
        self.provider = provider

    def navigate(self, url: str, timeout: Optional[float] = None) -> Navigation:
        """Loads an http(s) ``url`` and waits for its load event (``timeout`` seconds, default 30).
        A page that did not load is a Navigation with ``error_text``, not an exception."""
        return self._call(*_ops.browser_navigate(self.id, url, timeout))

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        return self._call(*_ops.browser_screenshot(self.id))

    def text(self) -> str:
        """The text the page shows."""
        return self._call(*_ops.browser_content(self.id, False))

    def html(self) -> str:
        """The page's DOM as HTML, as its scripts left it."""
        return self._call(*_ops.browser_content(self.id, True))

    def click(self, selector: str, *, count: int = 1, timeout: Optional[float] = None) -> None:
        """Clicks the first element matching the CSS ``selector`` once it is visible and enabled.
        Raises NotFound when none is within ``timeout`` seconds (default 30)."""
        self._call(*_ops.browser_click(self.id, selector, count, timeout))

    def type(self, selector: str, text: str = "", *, secret: Optional[str] = None, clear: bool = False,
             timeout: Optional[float] = None) -> None:
        """Types ``text`` into the first element matching ``selector`` (``clear``: emptied first).
        The text is never recorded by the host.

        With ``secret`` (a vault secret's name, and no text) the host puts that secret into the
        password field instead, where the operator bound it to the page's origin; its value never
        enters the jail. Raises PermissionDenied where it is not bound, or the field is not a
        password field."""
        self._call(*_ops.browser_type(self.id, selector, text, secret, clear, timeout))

    def evaluate(self, expression: str, timeout: Optional[float] = None) -> Evaluation:
        """Evaluates JavaScript in the page, awaiting a promise. Raises PermissionDenied unless the
        operator lets the tenant run scripts; DeadlineExceeded (the script is stopped) after
        ``timeout`` seconds (default 30)."""
        return self._call(*_ops.browser_evaluate(self.id, expression, timeout))

    def close(self) -> None:
        """Closes the browser and wipes its profile."""
        self._call(*_ops.browser_close(self.id))

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncBrowser:
    """:class:`Browser` for :class:`~paddock_agent.AsyncChannel`: the same methods, as coroutines."""

    def __init__(self, call: Callable[..., Any], browser_id: str, provider: str) -> None:
        self._call = call
        self.id = browser_id
        self.provider = provider

    async def navigate(self, url: str, timeout: Optional[float] = None) -> Navigation:
        return await self._call(*_ops.browser_navigate(self.id, url, timeout))

    async def screenshot(self) -> bytes:
        return await self._call(*_ops.browser_screenshot(self.id))

    async def text(self) -> str:
        return await self._call(*_ops.browser_content(self.id, False))

    async def html(self) -> str:
        return await self._call(*_ops.browser_content(self.id, True))

    async def click(self, selector: str, *, count: int = 1, timeout: Optional[float] = None) -> None:
        await self._call(*_ops.browser_click(self.id, selector, count, timeout))

    async def type(self, selector: str, text: str = "", *, secret: Optional[str] = None,
                   clear: bool = False, timeout: Optional[float] = None) -> None:
        await self._call(*_ops.browser_type(self.id, selector, text, secret, clear, timeout))

    async def evaluate(self, expression: str, timeout: Optional[float] = None) -> Evaluation:
        return await self._call(*_ops.browser_evaluate(self.id, expression, timeout))

    async def close(self) -> None:
        await self._call(*_ops.browser_close(self.id))

    async def __aenter__(self) -> "AsyncBrowser":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
