"""The platforms' shared HTTP listener: one per host and port, sub-applications keep their own
`request.app`, the combined /healthz, and a port in use failing with one line."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from bot.errors import ConfigError
from bot.listener import HttpListener, Listeners

KEY = web.AppKey("who", str)


def routes(who: str) -> web.Application:
    app = web.Application()
    app[KEY] = who

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=request.app[KEY])  # the sub-application, not the listener's

    app.router.add_get("/hello", hello)
    return app


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def test_one_listener_per_host_and_port() -> None:
    listeners = Listeners()
    assert listeners.get("127.0.0.1", 0) is listeners.get("127.0.0.1", 0)
    assert listeners.get("127.0.0.1", 0) is not listeners.get("127.0.0.1", 8080)
    assert listeners.get("127.0.0.1", 0) is not listeners.get("0.0.0.0", 0)


async def test_mounted_apps_share_the_port_and_its_health() -> None:
    listeners = Listeners()
    accepting = {"a": True, "b": True}
    listener = listeners.get("127.0.0.1", 0)
    listener.mount("a", "/a", routes("a"), lambda: accepting["a"])
    listener.mount("b", "/b", routes("b"), lambda: accepting["b"])
    await listeners.bind()
    base = f"http://127.0.0.1:{listener.port}"
    try:
        assert listener.port != 0
        assert await fetch(base + "/a/hello") == (200, "a")
        assert await fetch(base + "/b/hello") == (200, "b")
        assert (await fetch(base + "/healthz"))[0] == 200
        accepting["b"] = False
        status, body = await fetch(base + "/healthz")
        assert status == 503
        assert '"b": "stopping"' in body
    finally:
        await listeners.close()
    assert listeners.all() == []


async def test_a_port_in_use_fails_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listener = HttpListener("127.0.0.1", port)
        listener.mount("slack", "/slack", routes("a"), lambda: True)
        listener.mount("teams", "/api", routes("b"), lambda: True)
        with pytest.raises(ConfigError) as caught:
            await listener.bind()
    message = str(caught.value)
    assert message.startswith(f"slack and teams: cannot listen on 127.0.0.1:{port}")
    assert "Fix:" in message and "\n" not in message
    assert not listener.bound


def test_a_prefix_is_mounted_once() -> None:
    listener = HttpListener("127.0.0.1", 0)
    listener.mount("a", "/a", routes("a"), lambda: True)
    with pytest.raises(ConfigError, match=r"/a on 127\.0\.0\.1:0 is a.s already"):
        listener.mount("b", "/a", routes("b"), lambda: True)


async def test_nothing_mounted_binds_nothing() -> None:
    listener = HttpListener("127.0.0.1", 0)
    await listener.bind()
    assert not listener.bound and listener.port == 0
    await listener.close()


async def test_two_hosts_on_one_port_name_the_settings() -> None:
    listeners = Listeners()
    listeners.get("0.0.0.0", 3000).mount("slack", "/slack", routes("a"), lambda: True)
    listeners.get("127.0.0.1", 3000).mount("teams", "/api", routes("b"), lambda: True)
    with pytest.raises(ConfigError) as caught:
        await listeners.bind()
    assert str(caught.value) == (
        "teams on 127.0.0.1:3000 and slack on 0.0.0.0:3000: one port is served on one host. "
        "Fix: set [slack] and [teams] http_host alike, or give them different ports."
    )
    assert not any(listener.bound for listener in listeners.all())


async def test_listeners_sharing_a_port_both_serve_it() -> None:
    """bot.share_ports: replicas on one machine bind the same port, and the kernel spreads
    connections among them. Without it the second would fail as a port in use."""
    first = HttpListener("127.0.0.1", 0, share=True)
    first.mount("slack", "/slack", routes("first"), lambda: True)
    await first.bind()
    second = HttpListener("127.0.0.1", first.port, share=True)
    second.mount("slack", "/slack", routes("second"), lambda: True)
    try:
        await second.bind()
        # A new connection each time: the kernel picks a listener per connection.
        answers = {
            (await fetch(f"http://127.0.0.1:{first.port}/slack/hello"))[1] for _ in range(40)
        }
    finally:
        await second.close()
        await first.close()
    assert answers == {"first", "second"}
