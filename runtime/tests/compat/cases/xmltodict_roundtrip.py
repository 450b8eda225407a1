import json
import xmltodict
xml = """<feed xmlns:a="urn:a"><entry id="1"><title>One</title><a:tag>x</a:tag></entry>
<entry id="2"><title>Two &amp; more</title></entry></feed>"""
d = xmltodict.parse(xml)
print(json.dumps(d, sort_keys=True))
print(xmltodict.unparse({"root": {"@v": "1", "item": ["a", "b"], "empty": None}}, pretty=True))
print(xmltodict.parse(xml, force_list=("title",))["feed"]["entry"][1]["title"])
