"""Which network addresses the fetcher may connect to (server-side request forgery defence).

A feed is untrusted input: its item links, and every redirect they lead to, could point the fetcher at
the machine's own services (loopback), the office network (private ranges) or the cloud metadata
service (link-local 169.254.169.254), whose answers would then be stored and summarized. So every
connection is checked on the address it actually goes to: the host name is resolved once, each
address is checked, and the socket connects to exactly the checked address (a DNS server that answers
a public address to the check and a private one to the connect gains nothing). TLS still uses the
host name for SNI and certificate checks, and the Host header is untouched: only the TCP connect
target changes.

Loopback and private ranges can be opened for intranet feeds (``allow_private_hosts``); link-local,
unspecified, multicast and reserved addresses never are.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_PRIVATE_HOSTS_ENV = "SUMMARIZER_ALLOW_PRIVATE_HOSTS"
SECURITY_DOC = "docs/security.md"
# The ranges the opt-in opens besides loopback: RFC 1918 and IPv6 unique local addresses.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(network) for network in
                         ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")
# Host forms that inet_aton reads as IPv4 although they are no dotted quad: 2130706433, 0177.0.0.1,
# 0x7f.1. Browsers and many HTTP stacks connect to them, so they are classified the same way.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class AddressRefusedError(Exception):
    """A destination the policy refuses; the fetcher turns it into a FetchError naming the URL."""

    def __init__(self, host: str, address: str, reason: str):
        super().__init__(f"{address} is {reason}")
        self.host = host
        self.address = address
        self.reason = reason


def allow_private_hosts_from_env() -> bool:
    return os.environ.get(ALLOW_PRIVATE_HOSTS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for (any IPv4 form inet_aton accepts)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refusal_reason(address: IPAddress, allow_private_hosts: bool) -> str | None:
    """Why ``address`` may not be connected to ("a link-local address ..."), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    elif address in NAT64_NETWORK:
        # A NAT64 gateway connects to the IPv4 address in the last 32 bits.
        address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_link_local:
        if address == ipaddress.IPv4Address("169.254.169.254"):
            return "a link-local address (cloud metadata)"
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_loopback:
        return None if allow_private_hosts else "a loopback address"
    if any(address in network for network in PRIVATE_NETWORKS):
        return None if allow_private_hosts else "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a reserved address (not publicly routable)"
    return None


def check_url_host(url: str, allow_private_hosts: bool) -> None:
    """Refuse a URL whose host is an IP literal the policy refuses (before any resolution or connect).

    Host names are checked when they are connected to, on the addresses they resolve to.
    """
    host = urlsplit(url).hostname or ""
    address = literal_address(host)
    if address is not None:
        reason = refusal_reason(address, allow_private_hosts)
        if reason:
            shown = host if host == str(address) else f"{host} ({address})"
            raise AddressRefusedError(host, shown, reason)


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` (IP literals in any form included), in the resolver's order."""
    literal = literal_address(host)
    if literal is not None:
        return [str(literal)]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror or error}") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        if sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def allowed_addresses(host: str, port: int, allow_private_hosts: bool) -> list[str]:
    """The addresses of ``host`` that may be connected to; AddressRefusedError when there are none."""
    addresses = resolve(host, port)
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address")
    allowed, refused = [], []
    for address in addresses:
        reason = refusal_reason(ipaddress.ip_address(address.split("%", 1)[0]), allow_private_hosts)
        (refused if reason else allowed).append((address, reason))
    if refused and not allowed:
        address, reason = refused[0]
        raise AddressRefusedError(host, address, reason or "")
    # A name with some refused addresses is still used through its allowed ones only.
    return [address for address, _ in allowed]


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """httpcore's TCP connect, to checked addresses only (see the module docstring)."""

    def __init__(self, allow_private_hosts: bool):
        self.allow_private_hosts = allow_private_hosts
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[tuple[int, int, int | bytes]] | None = None
                    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in allowed_addresses(host, port, self.allow_private_hosts):
            try:
                return self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                              socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        raise last_error or httpcore.ConnectError(f"no address of {host} to connect to")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[tuple[int, int, int | bytes]] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the fetcher never connects to Unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)
