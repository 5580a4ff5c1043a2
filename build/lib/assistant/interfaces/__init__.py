"""The entry points on top of the assistant: the command line, the HTTP API and the chat in the browser."""
