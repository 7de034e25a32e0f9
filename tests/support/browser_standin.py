"""A stand-in for the user's browser, for the command-line example's ``--browser COMMAND``.

    python -m tests.support.browser_standin <authorization URL>

Signs in as PIKSEND_STANDIN_EMAIL (with tests.support.public_client.PASSWORD) on the real sign-in
page, approves on the real consent page, then follows the redirect to the example's loopback
listener as a browser would. Exits 0 once the listener answered, 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import sys

import requests

from tests.support.public_client import sign_in_and_approve


def main(argv: list[str]) -> int:
    url = argv[-1]
    browser = requests.Session()
    try:
        location = sign_in_and_approve(
            url, email=os.environ["PIKSEND_STANDIN_EMAIL"], browser=browser
        )
        landed = browser.get(location, timeout=10)
    except (AssertionError, requests.RequestException) as error:
        print(f"browser stand-in: {error!r}", file=sys.stderr)
        return 1
    if landed.status_code != 200:
        print(f"browser stand-in: the listener answered {landed.status_code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
