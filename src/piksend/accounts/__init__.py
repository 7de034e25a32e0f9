"""People: accounts, argon2id passwords, browser sessions and sign-in throttling."""
