"""Safety checks on what comes in (questions) and what goes out (model text, quotes, prompt leaks)."""
