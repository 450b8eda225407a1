import poplib
p = poplib.POP3("127.0.0.1", POP3_PORT, timeout=10)
print(p.getwelcome()[:3])
print(p.user(MAIL_USER), p.pass_(MAIL_PASSWORD)[:3])
print(p.stat())
resp, listing, octets = p.list()
print(resp[:3], listing, octets)
resp, lines, octets = p.retr(1)
print(resp, octets)
for line in lines:
    print(line.decode())
resp, lines, octets = p.top(2, 1)
print([l.decode() for l in lines if l.startswith((b"Subject", b"Amount"))])
print(p.uidl()[0][:3], len(p.uidl()[1]))
print(p.noop(), p.quit()[:3])
try:
    p.stat()
except (poplib.error_proto, OSError, AttributeError) as e:
    print("after quit:", type(e).__name__)
