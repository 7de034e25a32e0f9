"""Names and descriptions shown on consent (Unicode TR #36 §2.1, TR #39 §3.3 and §4): the
character rule, PikSend's reserved name, and both applied to apps that register themselves
(RFC 7591) and to client ID metadata documents."""

from __future__ import annotations

import json

import pytest

from piksend.oauth import display_text
from piksend.oauth.client_metadata_document import DocumentRefused, client_from_document
from piksend.oauth.errors import InvalidClientMetadataError
from piksend.oauth.registration import RegistrationPolicy, validate_metadata

URL = "https://assistant.example/oauth/client.json"
PUBLIC = {"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"}


@pytest.mark.parametrize(
    "char",
    list(
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff\u0007\ue000\ud800"
    ),
)
def test_every_bidi_control_and_invisible_character_is_named(char):
    assert display_text.hidden_character_problem(f"a{char}b", "Name") == (
        f"Name must not contain invisible or text-direction characters (U+{ord(char):04X})"
    )


def test_ordinary_text_in_any_script_passes_and_descriptions_may_break_lines():
    for text in ("Fotoalbum für Oma", "写真アプリ", "تطبيق الصور", "Ünïcödé · 100% – ok"):
        assert display_text.hidden_character_problem(text, "Name") is None
    assert display_text.hidden_character_problem("one\ntwo\tthree", "D", multiline=True) is None
    assert display_text.hidden_character_problem("one\ntwo", "Name") == (
        "Name must not contain invisible or text-direction characters (U+000A)"
    )


@pytest.mark.parametrize(
    ("name", "claims"),
    [
        ("PikSend Official Security Check", True),
        ("piksend", True),
        ("P I K S E N D", True),
        ("Pik-Send_Helper", True),
        ("P1k5end", True),
        ("\u0420ik\u0405end", True),  # Cyrillic Er and Dze
        ("\uff30\uff49\uff4b\uff33\uff45\uff4e\uff44", True),  # fullwidth, folded by NFKC
        ("Photo Sender", False),
        ("Pick Send", False),
        ("Sendpik", False),
    ],
)
def test_piksends_name_is_found_however_it_is_spaced_cased_or_spelt(name, claims):
    assert display_text.claims_piksend(name) is claims


@pytest.mark.parametrize(
    ("name", "description"),
    [
        (
            "Evil\u202eppA",
            "client_name must not contain invisible or text-direction characters (U+202E)",
        ),
        ("PikSend Assistant", "Only apps verified by PikSend may use PikSend in their name"),
    ],
)
def test_an_app_registering_itself_gets_the_same_name_rules(name, description):
    with pytest.raises(InvalidClientMetadataError) as refused:
        validate_metadata({**PUBLIC, "client_name": name}, RegistrationPolicy.PUBLIC)
    assert refused.value.description == description


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "Evil\u2067ppA",
            "client_name must not contain invisible or text-direction characters (U+2067)",
        ),
        ("pik send helper", "Only apps verified by PikSend may use PikSend in their name"),
    ],
)
def test_a_client_metadata_document_gets_the_same_name_rules(name, reason):
    body = json.dumps(
        {"client_id": URL, "redirect_uris": ["http://127.0.0.1/cb"], "client_name": name}
    ).encode()
    with pytest.raises(DocumentRefused) as refused:
        client_from_document(URL, body)
    assert refused.value.reason == reason


def test_a_line_break_in_a_description_does_not_end_the_check_of_what_follows():
    # TR #36 §2.1: the characters after an allowed line break are checked like any other.
    assert display_text.hidden_character_problem(
        "first line\n\u202eevil", "Description", multiline=True
    ) == ("Description must not contain invisible or text-direction characters (U+202E)")
