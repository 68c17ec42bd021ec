"""The platforms' HTTP listeners: one aiohttp server per host and port in the process, shared by
every adapter configured on it (Slack's /slack/events and Teams' /api/messages on one port).

Each adapter mounts its routes as an aiohttp sub-application under its own prefix, so
`request.app` stays the adapter's (the Teams SDK's token check reads its configuration from it).
The listener serves the combined `GET /healthz`: 200 only while every adapter mounted on it takes
requests, 503 once any of them stops. The App binds the listeners after every adapter has
mounted (a running aiohttp application takes no new routes) and closes them after the adapters
stopped, so a stopping adapter still answers 503 while its in-flight work finishes.

This is plain aiohttp, like the ops server: the core still imports no platform library."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.errors import ConfigError

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class Mount:
    name: str
    prefix: str
    app: web.Application
    accepting: Callable[[], bool]


class HttpListener:
    def __init__(self, host: str, port: int, *, share: bool = False) -> None:
        self.host = host
        # Other processes on this machine may listen on the same port (SO_REUSEPORT): the
        # kernel spreads connections among them (`bot.share_ports`).
        self.share = share
        # The port asked for until bound, then the one bound (0 asks for any free port).
        self.port = port
        self._mounts: list[Mount] = []
        self._runner: web.AppRunner | None = None

    @property
    def names(self) -> str:
        """Who mounted here, for messages ("slack and teams")."""
        return " and ".join(m.name for m in self._mounts)

    @property
    def bound(self) -> bool:
        return self._runner is not None

    def mount(
        self, name: str, prefix: str, app: web.Application, accepting: Callable[[], bool]
    ) -> None:
        """Serve `app`'s routes under `prefix` once bound; `accepting` says whether `name`
        takes requests now (the combined /healthz reads it)."""
        if self.bound:
            raise RuntimeError(f"{name}: mounted on {self.host}:{self.port} after it was bound")
        taken = {m.prefix: m.name for m in self._mounts}
        if prefix in taken or prefix == HEALTH_PATH:
            other = taken.get(prefix, "the listener")
            raise ConfigError(
                f"{name}: {prefix} on {self.host}:{self.port} is {other}'s already. Fix: give "
                f"{name} its own http_port."
            )
        self._mounts.append(Mount(name, prefix, app, accepting))

    def web_app(self) -> web.Application:
        root = web.Application()
        root.router.add_get(HEALTH_PATH, self.health)
        for mount in self._mounts:
            root.add_subapp(mount.prefix, mount.app)
        return root

    async def health(self, request: web.Request) -> web.Response:
        platforms = {m.name: "accepting" if m.accepting() else "stopping" for m in self._mounts}
        if all(state == "accepting" for state in platforms.values()):
            return web.json_response({"ok": True, "platforms": platforms})
        return web.json_response(
            {"ok": False, "status": "stopping", "platforms": platforms}, status=503
        )

    async def bind(self) -> None:
        """Listen; returns once the port is bound. A port in use fails with one line."""
        if self.bound or not self._mounts:
            return
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, reuse_port=self.share).start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"{self.names}: cannot listen on {self.host}:{self.port} "
                f"({exc.strerror or type(exc).__name__}). Fix: free the port, or set another "
                "with `cycles run --port` (or [slack]/[teams] http_port)."
            ) from None
        self._runner = runner
        if runner.addresses:
            self.port = int(runner.addresses[0][1])
        paths = [m.prefix + r.canonical for m in self._mounts for r in m.app.router.resources()]
        paths.append(HEALTH_PATH)
        log.info("listening on %s:%s (%s)", self.host, self.port, ", ".join(paths))

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Listeners:
    """The App's listeners by host and port, each made when an adapter first asks for it."""

    def __init__(self, *, share: bool = False) -> None:
        self.share = share
        self._by_address: dict[tuple[str, int], HttpListener] = {}

    def get(self, host: str, port: int) -> HttpListener:
        listener = self._by_address.get((host, port))
        if listener is None:
            listener = HttpListener(host, port, share=self.share)
            self._by_address[(host, port)] = listener
        return listener

    def all(self) -> list[HttpListener]:
        return list(self._by_address.values())

    async def bind(self) -> None:
        self._check_hosts()
        for listener in self._by_address.values():
            await listener.bind()

    def _check_hosts(self) -> None:
        # Two hosts on one port cannot both bind it (0.0.0.0 covers 127.0.0.1): say which
        # settings disagree rather than which address is in use.
        hosts: dict[int, HttpListener] = {}
        for (_, port), listener in self._by_address.items():
            other = hosts.setdefault(port, listener)
            if port and other is not listener:
                raise ConfigError(
                    f"{listener.names} on {listener.host}:{port} and {other.names} on "
                    f"{other.host}:{port}: one port is served on one host. Fix: set [slack] "
                    "and [teams] http_host alike, or give them different ports."
                )

    async def close(self) -> None:
        """Close every listener and forget them: a later start mounts on new ones."""
        listeners, self._by_address = list(self._by_address.values()), {}
        for listener in listeners:
            await listener.close()
