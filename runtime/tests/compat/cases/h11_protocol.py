import h11
client = h11.Connection(h11.CLIENT)
data = client.send(h11.Request(method="GET", target="/x", headers=[("Host", "a.example"), ("Accept", "*/*")]))
data += client.send(h11.EndOfMessage())
print(data)
client.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
events = []
while True:
    e = client.next_event()
    if e is h11.NEED_DATA:
        break
    events.append(type(e).__name__)
    if isinstance(e, h11.EndOfMessage):
        break
print(events, client.our_state, client.their_state)
