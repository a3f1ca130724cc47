"""A TCP proxy on 127.0.0.1 that a test can cut: the network between moonshift and a database."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class Proxy:
    def __init__(self, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.host, self.target_port = host, target_port
        self._server: socket.socket | None = None
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self.delay = 0.0  # seconds before a new connection is passed on: a slow network
        self.throttle = 0.0  # seconds of wait after each chunk passed on: a narrow one
        # bound at once and held until it listens: a port found free and let go could be
        # taken meanwhile by another test process
        self._bound: socket.socket | None = self._bind(0)
        self.port = self._bound.getsockname()[1]

    def _bind(self, port: int) -> socket.socket:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, port))
        return server

    def start(self) -> None:
        """Listen; after ``stop``, on the same port again (a database coming back)."""
        server, self._bound = self._bound or self._bind(self.port), None
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        """Close every open connection; new ones still get through."""
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            with contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
            link.close()

    def hold(self) -> None:
        """Accept new connections but pass nothing on: a database that does not answer."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._bound is not None:
            self._bound.close()
            self._bound = None
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        self.cut()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=self._link, args=(client,), daemon=True).start()

    def _link(self, client: socket.socket) -> None:
        with self._lock:
            self._links.append(client)
        self._flowing.wait()
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection((self.host, self.target_port))
        except OSError:
            client.close()
            return
        with self._lock:
            self._links.append(upstream)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
                time.sleep(self.throttle)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
