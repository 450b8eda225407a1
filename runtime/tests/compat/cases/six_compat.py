import six
from six.moves import urllib, range as srange
print(six.PY3, six.text_type("x"), six.binary_type(b"y"), list(srange(3)))
print(urllib.parse.quote("a b/c"), six.ensure_str(b"caf\xc3\xa9"), six.ensure_binary("é"))
@six.add_metaclass(type)
class K: pass
print(K.__name__, six.iteritems({"a": 1}).__class__.__name__)
