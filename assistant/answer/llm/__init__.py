"""LLM mode: a chat model (OpenAI or any OpenAI-compatible server) writes the answer from numbered passages."""
