"""A real FTP server for tests (pyftpdlib): one account with full rights on a root
directory, passive data connections only on the ports given (the sandbox needs a
rule for each).

Usage: ftp_server.py PORT PASSIVE_PORTS(comma-separated) ROOT USER PASSWORD
"""

import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    port, passive, root, user, password = sys.argv[1:6]
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {})
    handler.authorizer = authorizer
    handler.passive_ports = [int(p) for p in passive.split(",")]
    handler.banner = "automa test FTP server ready."
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    server = FTPServer(("127.0.0.1", int(port)), handler)
    server.serve_forever(timeout=0.5)


if __name__ == "__main__":
    main()
