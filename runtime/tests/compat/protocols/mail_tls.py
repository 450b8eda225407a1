# IMAP and POP3 over TLS from the start and after STARTTLS/STLS, verifying the
# server's certificate for localhost against the test's CA.
import imaplib, poplib, ssl
ctx = ssl.create_default_context(cafile=CA_FILE)
with imaplib.IMAP4_SSL("localhost", IMAPS_PORT, ssl_context=ctx, timeout=10) as m:
    print(m.login(MAIL_USER, MAIL_PASSWORD)[0], m.select("INBOX", readonly=True))
    print(m.sock.version() in ("TLSv1.2", "TLSv1.3"), m.sock.getpeercert()["subject"])
    typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print(data[0][1].strip())
with imaplib.IMAP4("localhost", IMAP_PORT, timeout=10) as m:
    print("STARTTLS" in m.capabilities, m.starttls(ssl_context=ctx)[0])
    print(m.login(MAIL_USER, MAIL_PASSWORD)[0], m.select("INBOX")[1], m.search(None, "ALL"))
p = poplib.POP3_SSL("localhost", POP3S_PORT, context=ctx, timeout=10)
print(p.user(MAIL_USER), p.pass_(MAIL_PASSWORD)[:3], p.stat())
print(p.retr(2)[1][2], p.quit()[:3])
p = poplib.POP3("localhost", POP3_PORT, timeout=10)
print(p.stls(context=ctx)[:3], p.user(MAIL_USER), p.pass_(MAIL_PASSWORD)[:3], p.stat())
print(p.quit()[:3])
try:
    imaplib.IMAP4_SSL("127.0.0.1", IMAPS_PORT, ssl_context=ctx, timeout=10)
except ssl.SSLCertVerificationError as e:
    print("refused:", type(e).__name__, e.verify_code)
