"""Answer composers: `extractive` (offline, quotes only) and, when configured, `llm`."""
