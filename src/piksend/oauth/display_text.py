"""What an app may call itself on the consent screen: Unicode TR #36 §2.1 and TR #39 §3.3, §4.

Names and descriptions hold no invisible or direction-changing characters (format, control,
private-use and surrogate code points, and the bidi controls of UAX #9 §2: U+202E would reverse
the consent heading), and only an app the operator verified may carry PikSend's own name,
however it is spaced, cased or spelt with look-alikes. Used for apps registered by developers
(``piksend.clients.validation``), by themselves (``registration``) and by metadata documents.
"""

from __future__ import annotations

import unicodedata

# UAX #9 §2: embeddings and overrides, isolates, the implicit marks, the Arabic letter mark.
BIDI_CONTROLS = frozenset(
    [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), *"\u200e\u200f\u061c"]
)
# TR #36 §2.1: invisible or unassigned-meaning characters (Cf format, Cc control, Co private
# use, Cs surrogate). Line breaks and tabs are allowed in a description only.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs"})
DESCRIPTION_WHITESPACE = frozenset("\n\r\t")
RESERVED_NAME = "piksend"
# TR #39 §4 skeletons, reduced to the look-alikes of the letters of "piksend".
_CONFUSABLES = str.maketrans(
    {
        "1": "i", "l": "i", "|": "i", "!": "i", "\u0456": "i", "\u03b9": "i", "\u0131": "i",
        "\u0440": "p", "\u03c1": "p", "\u043a": "k", "\u03ba": "k", "5": "s", "$": "s",
        "\u0455": "s", "3": "e", "\u0435": "e", "\u03b5": "e", "\u043f": "n", "\u03b7": "n",
    }
)  # fmt: skip


def hidden_character_problem(value: str, label: str, *, multiline: bool = False) -> str | None:
    """The message for a name or description holding an invisible or bidi control character."""
    for char in value:
        if multiline and char in DESCRIPTION_WHITESPACE:
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in INVISIBLE_CATEGORIES:
            return (
                f"{label} must not contain invisible or text-direction characters "
                f"(U+{ord(char):04X})"
            )
    return None


PIKSEND_NAME_REFUSED = "Only apps verified by PikSend may use PikSend in their name"


def claims_piksend(name: str) -> bool:
    """Whether ``name`` reads as PikSend's own: compatibility-folded and case-folded, with
    everything but letters and digits dropped and look-alikes mapped (TR #39 §4)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    mapped = folded.translate(_CONFUSABLES)
    return RESERVED_NAME in "".join(c for c in mapped if c.isalnum())
