"""The Automa SDK for scripts running in the sandbox.

    import automa
    automa.log.info("starting")
    r = automa.http.get("https://api.example.com/items")
    automa.state.set("last_count", len(r.json()))
"""

from . import agent, email, errors, files, http, log, plugins, secrets, state

args = {}
"""The arguments of the current run (also passed to `main(**args)`)."""

__all__ = [
    "agent", "args", "email", "errors", "files", "http", "log", "plugins", "secrets", "state",
]
