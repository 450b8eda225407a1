import email, imaplib
from email import policy
with imaplib.IMAP4("127.0.0.1", IMAP_PORT, timeout=10) as m:
    print("IMAP4REV1" in m.capabilities)
    print(m.login(MAIL_USER, MAIL_PASSWORD)[0])
    typ, data = m.select("INBOX")
    print(typ, data)
    print(m.search(None, "ALL"))
    print(m.search(None, '(SUBJECT "invoice")'))
    typ, data = m.fetch("1:2", "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
    print(typ, [part[0].split(b" (")[0] for part in data if isinstance(part, tuple)])
    for part in data:
        if isinstance(part, tuple):
            print(part[0].split(b"RFC822.SIZE ")[1].split(b" ")[0], part[1].decode().strip().splitlines())
    typ, data = m.fetch("2", "(BODY.PEEK[])")
    msg = email.message_from_bytes(data[0][1], policy=policy.default)
    print(msg["Subject"], msg["Message-ID"], repr(msg.get_content()))
    print(m.uid("SEARCH", None, "ALL")[0])
    print(m.list()[0], m.close()[0])
    try:
        m.login(MAIL_USER, "wrong")
    except imaplib.IMAP4.error as e:
        print("error:", type(e).__name__)
