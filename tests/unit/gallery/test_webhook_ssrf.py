"""Tests for piksend.fetch.ssrf. Only literal IPs and ``localhost`` are resolved for real."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from piksend.fetch.ssrf import UnsafeTarget, resolve_and_check, target_problem


def _fake_getaddrinfo(monkeypatch: pytest.MonkeyPatch, answer: list[str] | Exception) -> list[str]:
    """Make the running loop's resolver return ``answer``; returns the list of hosts asked."""
    asked: list[str] = []

    async def getaddrinfo(host: str, port: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        if isinstance(answer, Exception):
            raise answer
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answer
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return asked


# --- target_problem ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/piksend",
        "https://hooks.example.com:8443/a?b=c",
        "https://[2606:4700:4700::1111]/hook",
        "HTTPS://Hooks.Example.com/",
    ],
)
def test_acceptable_urls(url: str) -> None:
    assert target_problem(url, allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("/relative/path", "https"),
        ("hooks.example.com/path", "https"),
        ("https:///path-only", "host"),
        ("https://", "host"),
        ("https://user:pass@hooks.example.com/", "username or password"),
        ("https://user@hooks.example.com/", "username or password"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://hooks.example.com/#", "fragment"),
        ("https://hooks.example.com/" + "a" * 2000, "at most 2000"),
        ("https://hooks.example.com:99999/", "not valid"),
        ("https://hooks.example.com:0/", "port"),
        ("https://[::1/", "not valid"),
        ("https://hooks.example.com /", "whitespace"),
        ("https://hooks.example.com\\@evil/", "backslash"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "control"),
    ],
)
def test_unacceptable_urls(url: str, problem: str) -> None:
    result = target_problem(url, allow_private=False)

    assert result is not None
    assert problem in result


def test_url_length_limit_is_inclusive() -> None:
    base = "https://hooks.example.com/"
    assert target_problem(base + "a" * (2000 - len(base)), allow_private=False) is None
    assert target_problem(base + "a" * (2001 - len(base)), allow_private=False) is not None


def test_http_allowed_only_with_allow_private() -> None:
    assert target_problem("http://localhost:8000/hook", allow_private=True) is None
    assert target_problem("http://localhost:8000/hook", allow_private=False) is not None
    assert target_problem("ftp://localhost/", allow_private=True) is not None


# --- resolve_and_check -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
        "[fe80::1%25eth0]",
        "[fc00::1]",
        "[ff02::1]",
        "[2002:7f00:1::]",  # 6to4 form of 127.0.0.1
        "[2002:a9fe:a9fe::1]",  # 6to4 form of 169.254.169.254
        "[64:ff9b::a9fe:a9fe]",  # NAT64 form of 169.254.169.254
        "[2001:db8::1]",
    ],
)
async def test_non_public_ip_literals_are_refused(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _fake_getaddrinfo(monkeypatch, OSError("DNS must not be used for IP literals"))

    with pytest.raises(UnsafeTarget, match="non-public address"):
        await resolve_and_check(f"https://{host}/hook", allow_private=False)
    assert asked == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("93.184.215.14", "93.184.215.14"),
        ("[2606:4700:4700::1111]", "2606:4700:4700::1111"),
        ("[::ffff:8.8.8.8]", "::ffff:808:808"),
        ("[2002:808:808::1]", "2002:808:808::1"),
    ],
)
async def test_public_ip_literals_are_accepted_without_dns(
    host: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _fake_getaddrinfo(monkeypatch, OSError("DNS must not be used for IP literals"))

    assert await resolve_and_check(f"https://{host}/hook", allow_private=False) == [expected]
    assert asked == []


async def test_localhost_is_refused() -> None:
    with pytest.raises(UnsafeTarget, match="non-public address"):
        await resolve_and_check("https://localhost/hook", allow_private=False)


async def test_localhost_allowed_with_allow_private() -> None:
    addresses = await resolve_and_check("http://localhost:8000/hook", allow_private=True)

    assert addresses
    assert set(addresses) <= {"127.0.0.1", "::1"}


async def test_private_literal_allowed_with_allow_private() -> None:
    assert await resolve_and_check("https://10.0.0.5/", allow_private=True) == ["10.0.0.5"]


async def test_http_refused_even_for_public_address() -> None:
    with pytest.raises(UnsafeTarget, match="https"):
        await resolve_and_check("http://93.184.215.14/hook", allow_private=False)


async def test_syntax_problem_is_raised() -> None:
    with pytest.raises(UnsafeTarget, match="username or password"):
        await resolve_and_check("https://a:b@hooks.example.com/", allow_private=False)


async def test_public_dns_answer_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _fake_getaddrinfo(
        monkeypatch, ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    )

    addresses = await resolve_and_check("https://hooks.example.com/x", allow_private=False)

    assert addresses == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert asked == ["hooks.example.com"]


async def test_duplicate_dns_answers_are_collapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_getaddrinfo(monkeypatch, ["93.184.215.14", "93.184.215.14"])

    assert await resolve_and_check("https://hooks.example.com/", allow_private=False) == [
        "93.184.215.14"
    ]


@pytest.mark.parametrize("bad", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fe80::1"])
async def test_any_private_address_in_dns_answer_is_refused(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_getaddrinfo(monkeypatch, ["93.184.215.14", bad])

    with pytest.raises(UnsafeTarget, match="non-public address"):
        await resolve_and_check("https://rebind.example.com/", allow_private=False)


async def test_private_dns_answer_allowed_with_allow_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_getaddrinfo(monkeypatch, ["10.0.0.7"])

    assert await resolve_and_check("https://internal.example/", allow_private=True) == ["10.0.0.7"]


@pytest.mark.parametrize(
    "error", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), UnicodeError("idna")]
)
async def test_resolution_failure(error: Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_getaddrinfo(monkeypatch, error)

    with pytest.raises(UnsafeTarget, match="could not resolve host"):
        await resolve_and_check("https://does-not-exist.example/", allow_private=False)


async def test_empty_dns_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_getaddrinfo(monkeypatch, [])

    with pytest.raises(UnsafeTarget, match="could not resolve host"):
        await resolve_and_check("https://empty.example/", allow_private=False)


async def test_resolver_is_given_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[object] = []

    async def getaddrinfo(host: str, port: object, **kwargs: Any) -> list[tuple[Any, ...]]:
        ports.append(port)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)

    await resolve_and_check("https://hooks.example.com/", allow_private=False)
    await resolve_and_check("https://hooks.example.com:8443/", allow_private=False)

    assert ports == [443, 8443]
