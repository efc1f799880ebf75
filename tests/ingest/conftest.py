"""Fixtures for the fetching tests: a local server, and a guard that stands in for DNS and refuses
every outgoing connection, so that no test here ever sends traffic beyond 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

import pytest

from tests.ingest.local_server import LocalServer

# Names the stub resolver answers, as the attacker's DNS would.
FAKE_DNS = {
    "metadata.evil.example": ["169.254.169.254"],
    "intranet.evil.example": ["10.0.0.1"],
    "v6-local.evil.example": ["fe80::1"],
    "mapped.evil.example": ["::ffff:127.0.0.1"],
    "public.example": ["93.184.216.34"],
}


@pytest.fixture
def local_server():
    with LocalServer() as server:
        yield server


@dataclass
class NetworkGuard:
    """Records every connect; lets through loopback only when ``allow_loopback``, refuses the rest."""

    allow_loopback: bool = False
    # name -> addresses, or a callable giving the addresses of each lookup (a rebinding DNS server).
    dns: dict = field(default_factory=lambda: dict(FAKE_DNS))
    connects: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def non_loopback_connects(self) -> list[str]:
        return [host for host in self.connects if not ipaddress.ip_address(host.split("%")[0]).is_loopback]


@pytest.fixture
def network_guard(monkeypatch):
    guard = NetworkGuard()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def fake_getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        guard.lookups.append(name)
        if name in guard.dns:
            answer = guard.dns[name]
            answers = []
            for address in (answer() if callable(answer) else answer):
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
                answers.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return answers
        if name.endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "not in the test's fake DNS")
        # Address literals (any form) resolve locally, without a DNS query.
        return real_getaddrinfo(host, port, *args, **kwargs)

    def guarded_connect(sock, address):
        host = address[0]
        guard.connects.append(host)
        if guard.allow_loopback and ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return real_connect(sock, address)
        raise ConnectionRefusedError(f"test network guard: no connection to {host}")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return guard
