"""The standard-library modules the runner loads at build time.

componentize-py snapshots the interpreter after the runner's top level ran, and only
modules imported by then exist inside the sandbox. Everything an everyday automation
script imports is listed here; the README repeats the list and a test imports each
module inside the sandbox.
"""

MODULES = [
    "abc", "argparse", "array", "ast", "asyncio", "base64", "binascii", "bisect",
    "calendar", "cmath", "codecs", "collections", "collections.abc", "colorsys",
    "concurrent.futures", "contextlib", "contextvars", "copy", "csv", "dataclasses",
    "datetime", "decimal", "difflib", "email", "email.charset", "email.encoders",
    "email.header", "email.message", "email.mime.application", "email.mime.base",
    "email.mime.multipart", "email.mime.text", "email.parser", "email.policy",
    "email.utils", "enum", "fnmatch", "fractions", "functools", "getopt", "gettext",
    "glob", "graphlib", "gzip", "hashlib", "heapq", "hmac", "html", "html.entities",
    "html.parser", "http", "http.cookies", "inspect", "io", "ipaddress", "itertools",
    "json", "keyword", "locale", "logging", "logging.handlers", "math", "mimetypes",
    "numbers", "operator", "os", "os.path", "pathlib", "pickle", "platform", "pprint",
    "queue", "quopri", "random", "re", "reprlib", "sched", "secrets", "shlex", "shutil",
    "sqlite3", "statistics", "string", "stringprep", "struct", "sys", "tarfile",
    "tempfile", "textwrap", "threading", "time", "timeit", "tomllib", "traceback",
    "types", "typing", "unicodedata", "urllib", "urllib.parse", "uuid", "warnings",
    "weakref", "xml", "xml.dom", "xml.dom.minidom", "xml.etree.ElementTree",
    "xml.sax", "xml.sax.saxutils", "zipfile", "zlib", "zoneinfo",
    # Imported by many packages at import time, or by everyday network code: loading
    # them from the mounted library costs 15-90 ms a run (imaplib ~140 ms), pre-imported
    # nothing.
    "configparser", "email.generator", "email.headerregistry", "ftplib", "http.client",
    "http.cookiejar", "imaplib", "importlib.metadata", "importlib.resources", "poplib",
    "selectors", "smtplib", "socket", "ssl", "urllib.error", "urllib.request",
    "xml.sax.expatreader",
]
