"""learnflow netguard: refuse every non-loopback network connection / DNS lookup.

    import learnflow_netguard
    learnflow_netguard.install(log_path=None)   # idempotent; returns True if newly installed
    learnflow_netguard.uninstall()
    learnflow_netguard.is_installed()
    learnflow_netguard.BLOCKED                  # list of messages blocked in this process
    with learnflow_netguard.expected():         # deliberate blocks (guard self-tests):
        ...                                     # still raise, but are not written to the log

Patched: socket.socket.connect / connect_ex / sendto, socket.create_connection,
socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex.

Allowed: 127.0.0.0/8, ::1 (also ::ffff:127.x.x.x), "localhost" (and *.localhost),
the unspecified addresses 0.0.0.0 / :: (they never leave the host), host None/"" in
getaddrinfo (used for binding), AF_UNIX and every non-INET socket family.

Anything else raises ``NetguardError`` (a subclass of OSError) with the message
``learnflow netguard: blocked connection to HOST:PORT`` and, if a log path was given
(or env LEARNFLOW_NETGUARD_LOG is set), appends one line per block to that file.

Limits: code that captured the original functions before install() (``from socket
import getaddrinfo``), C extensions doing their own networking, and non-Python child
processes are not covered.  For Python subprocesses put the directory of this file on
PYTHONPATH and set LEARNFLOW_NETGUARD=1 (see sitecustomize.py next to it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import threading

__all__ = ["install", "uninstall", "is_installed", "is_loopback", "expected", "NetguardError", "BLOCKED"]

PREFIX = "learnflow netguard: blocked connection to"

BLOCKED: list[str] = []

_lock = threading.Lock()
_originals: dict = {}
_log_path: str | None = None
_INET = {socket.AF_INET, getattr(socket, "AF_INET6", socket.AF_INET)}
_expecting = threading.local()


class NetguardError(OSError):
    """Raised instead of opening a non-loopback connection."""


def is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    h = host.strip().rstrip(".").lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.split("%", 1)[0]  # IPv6 scope id
    if h in ("", "localhost") or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False  # a hostname other than localhost
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_loopback or ip.is_unspecified


def _block(host, port, op: str):
    msg = f"{PREFIX} {host}:{port}"
    BLOCKED.append(msg)
    path = _log_path or os.environ.get("LEARNFLOW_NETGUARD_LOG")
    if path and not getattr(_expecting, "depth", 0):
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{msg} (op={op} pid={os.getpid()})\n")
        except OSError:
            pass
    raise NetguardError(msg)


def _check_address(sock, address, op: str) -> None:
    try:
        family = sock.family
    except Exception:  # pragma: no cover
        family = None
    if family not in _INET:
        return  # AF_UNIX, AF_NETLINK, ...
    if isinstance(address, tuple) and address:
        host = address[0]
        port = address[1] if len(address) > 1 else "?"
    else:
        host, port = address, "?"
    if not is_loopback(host):
        _block(host, port, op)


def _connect(self, address):
    _check_address(self, address, "connect")
    return _originals["connect"](self, address)


def _connect_ex(self, address):
    _check_address(self, address, "connect_ex")
    return _originals["connect_ex"](self, address)


def _sendto(self, data, *args):
    address = args[-1] if args else None
    if address is not None:
        _check_address(self, address, "sendto")
    return _originals["sendto"](self, data, *args)


def _create_connection(address, *args, **kwargs):
    host, port = address[0], address[1]
    if not is_loopback(host):
        _block(host, port, "create_connection")
    return _originals["create_connection"](address, *args, **kwargs)


def _getaddrinfo(host, port, *args, **kwargs):
    if not is_loopback(host):
        _block(host if not isinstance(host, bytes) else host.decode("ascii", "replace"), port, "getaddrinfo")
    return _originals["getaddrinfo"](host, port, *args, **kwargs)


def _gethostbyname(hostname):
    if not is_loopback(hostname):
        _block(hostname, "?", "gethostbyname")
    return _originals["gethostbyname"](hostname)


def _gethostbyname_ex(hostname):
    if not is_loopback(hostname):
        _block(hostname, "?", "gethostbyname_ex")
    return _originals["gethostbyname_ex"](hostname)


_SOCKET_METHODS = {"connect": _connect, "connect_ex": _connect_ex, "sendto": _sendto}
_MODULE_FUNCS = {
    "create_connection": _create_connection,
    "getaddrinfo": _getaddrinfo,
    "gethostbyname": _gethostbyname,
    "gethostbyname_ex": _gethostbyname_ex,
}


@contextlib.contextmanager
def expected():
    """Blocks in this thread inside the block are deliberate: raise, but don't log them."""
    _expecting.depth = getattr(_expecting, "depth", 0) + 1
    try:
        yield
    finally:
        _expecting.depth -= 1


def is_installed() -> bool:
    return bool(_originals)


def install(log_path: str | None = None) -> bool:
    """Install the guard (idempotent). Returns True if it was not installed before."""
    global _log_path
    with _lock:
        if log_path is not None:
            _log_path = log_path
        if _originals:
            return False
        for name, fn in _SOCKET_METHODS.items():
            _originals[name] = getattr(socket.socket, name)
            setattr(socket.socket, name, fn)
        for name, fn in _MODULE_FUNCS.items():
            _originals[name] = getattr(socket, name)
            setattr(socket, name, fn)
        return True


def uninstall() -> None:
    global _log_path
    with _lock:
        if not _originals:
            return
        for name in _SOCKET_METHODS:
            setattr(socket.socket, name, _originals.pop(name))
        for name in _MODULE_FUNCS:
            setattr(socket, name, _originals.pop(name))
        _log_path = None
