import sys, time
import paho.mqtt.client as mqtt
topic = "compat/%s/jobs" % sys.platform
events = []
def on_connect(client, userdata, flags, reason_code, properties):
    events.append(("connect", str(reason_code)))
    client.subscribe(topic + "/#", qos=1)
def on_subscribe(client, userdata, mid, reason_codes, properties):
    events.append(("subscribe", [str(c) for c in reason_codes]))
def on_message(client, userdata, message):
    events.append(("message", message.topic[len(topic):], message.payload, message.qos, message.retain))
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="automa-compat-" + sys.platform)
client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
print(client.connect("127.0.0.1", MQTT_PORT, keepalive=30))
def loop_until(done):
    deadline = time.monotonic() + 10
    while not done() and time.monotonic() < deadline:
        client.loop(timeout=0.5)
loop_until(lambda: any(e[0] == "subscribe" for e in events))
info = client.publish(topic + "/done", b"backup ok", qos=1)
client.publish(topic + "/log", "x" * 70000, qos=0)
loop_until(lambda: sum(e[0] == "message" for e in events) >= 2)
print(info.is_published(), info.rc)
for e in events:
    print(e if e[0] != "message" or len(e[2]) < 100 else (e[0], e[1], len(e[2])))
client.disconnect()
client.loop(timeout=0.1)
print(client.is_connected())
