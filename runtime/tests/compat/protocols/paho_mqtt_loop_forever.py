import sys
import paho.mqtt.client as mqtt
topic = "compat/%s/forever" % sys.platform
seen = []
def on_connect(client, userdata, flags, reason_code, properties):
    seen.append(("connect", str(reason_code), flags.session_present))
    client.subscribe(topic, qos=2)
def on_subscribe(client, userdata, mid, reason_codes, properties):
    seen.append(("subscribe", [str(c) for c in reason_codes]))
    client.publish(topic, b"\x00\x01binary\xff", qos=2, properties=None)
def on_message(client, userdata, message):
    seen.append(("message", message.payload, message.qos))
    client.disconnect()
def on_disconnect(client, userdata, flags, reason_code, properties):
    seen.append(("disconnect", str(reason_code)))
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.on_connect, client.on_subscribe, client.on_message, client.on_disconnect = on_connect, on_subscribe, on_message, on_disconnect
client.connect("127.0.0.1", MQTT_PORT, keepalive=15)
print(client.loop_forever(timeout=0.5))
for event in seen:
    print(event)
