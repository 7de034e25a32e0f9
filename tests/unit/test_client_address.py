"""The client's address: the socket's peer, or the right-most untrusted X-Forwarded-For hop."""

from __future__ import annotations

import pytest

from piksend.settings import trusted_proxies
from piksend.web.client_address import address_from, network_of, trusted_networks

PROXIES = trusted_networks(("10.0.0.0/8", "fd00::/8"))


def test_without_trusted_proxies_the_header_is_never_read():
    assert address_from("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"


def test_a_header_sent_by_an_untrusted_peer_is_ignored():
    assert address_from("203.0.113.7", ["127.0.0.3"], PROXIES) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_hop_it_appended_is_the_client():
    assert address_from("10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_entries_the_client_wrote_left_of_the_right_most_untrusted_hop_are_ignored():
    forwarded = ["127.0.0.3, 192.0.2.9", "198.51.100.1, 10.0.0.5"]
    assert address_from("10.0.0.2", forwarded, PROXIES) == "198.51.100.1"


def test_a_hop_that_is_not_an_address_stops_at_the_nearest_trusted_proxy():
    assert address_from("10.0.0.2", ["198.51.100.1, bogus, 10.0.0.5"], PROXIES) == "10.0.0.5"


def test_when_every_hop_is_a_trusted_proxy_the_left_most_is_the_client():
    assert address_from("10.0.0.2", ["10.1.1.1, 10.0.0.5"], PROXIES) == "10.1.1.1"


def test_ipv4_mapped_and_uncompressed_ipv6_addresses_are_written_one_way():
    assert (
        address_from("::ffff:203.0.113.7", [], ()),
        address_from("fd00::1", ["2001:0db8:0000:0000:0000:0000:0000:0001"], PROXIES),
    ) == ("203.0.113.7", "2001:db8::1")


def test_a_peer_that_is_not_an_ip_address_is_kept_as_it_is():
    assert (address_from("testclient", ["198.51.100.1"], PROXIES), address_from("", [], ())) == (
        "testclient",
        "unknown",
    )


def test_rate_limits_count_an_ipv6_client_by_its_64_and_an_ipv4_client_by_its_address():
    assert (network_of("2001:db8:1:2:aaaa::1"), network_of("203.0.113.7")) == (
        "2001:db8:1:2::/64",
        "203.0.113.7",
    )


def test_the_trusted_proxies_setting_takes_cidrs_and_single_addresses():
    assert trusted_proxies(" 10.0.0.0/8, 192.0.2.1 ,,fd00::/8") == (
        "10.0.0.0/8",
        "192.0.2.1/32",
        "fd00::/8",
    )


def test_a_trusted_proxies_setting_with_a_typo_stops_the_start():
    with pytest.raises(ValueError) as refused:
        trusted_proxies("10.0.0.0/8,10.0.0.300")
    assert str(refused.value) == "PIKSEND_TRUSTED_PROXIES: '10.0.0.300' is not a CIDR"
