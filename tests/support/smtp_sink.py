"""A real SMTP server for tests: aiosmtpd, writing each message to a file.

Usage: smtp_sink.py PORT MAILBOX_DIR
Each file holds the envelope (MAIL/RCPT lines) followed by the raw message.
"""

import pathlib
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, mailbox):
        self.mailbox = mailbox
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        lines = [f"MAIL {envelope.mail_from}"]
        lines += [f"RCPT {rcpt}" for rcpt in envelope.rcpt_tos]
        body = envelope.content.decode("utf-8", errors="replace")
        path = self.mailbox / f"{self.count:04d}.eml"
        path.write_text("\n".join(lines) + "\n\n" + body)
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    mailbox = pathlib.Path(sys.argv[2])
    controller = Controller(Sink(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
