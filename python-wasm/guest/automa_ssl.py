"""The `ssl` module of the sandbox: TLS that the host performs.

The interpreter has no OpenSSL. A script's TLS connection is made by the host with
rustls, verifying the server's certificate against the web's root CAs and the extra
CAs an admin configured, for the name the script asked for (SNI). The API is the
standard module's, so `ssl.create_default_context()`, `wrap_socket(...,
server_hostname=...)`, `SSLContext`, `SSLError` and friends work as clients use them.

What differs, on purpose: certificate verification cannot be turned off and the
trusted roots cannot be changed from a script (`check_hostname = False`,
`CERT_NONE` and `load_verify_locations` are accepted and have no effect); client
certificates and server-side TLS do not exist.
"""

import base64 as _base64
import enum as _enum
import errno as _errno
import os as _os
import textwrap as _textwrap

import automa_socket as _socket
from componentize_py_types import Err
from wit_world.imports import net as _net
from wit_world.imports import types as _types

__name__ = "ssl"

OPENSSL_VERSION = "rustls (TLS by the Automa host)"
OPENSSL_VERSION_INFO = (3, 0, 0, 0, 0)
OPENSSL_VERSION_NUMBER = 0x30000000
HAS_SNI = True
HAS_ALPN = True
HAS_NPN = False
HAS_ECDH = True
HAS_TLSv1 = False
HAS_TLSv1_1 = False
HAS_TLSv1_2 = True
HAS_TLSv1_3 = True
HAS_NEVER_CHECK_COMMON_NAME = True
HAS_PSK = False
HAS_PHA = False
CHANNEL_BINDING_TYPES = []


class SSLError(OSError):
    """A TLS failure."""

    library = "SSL"
    reason = None


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    verify_code = 0
    verify_message = ""


CertificateError = SSLCertVerificationError


class VerifyMode(_enum.IntEnum):
    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED = VerifyMode


class VerifyFlags(_enum.IntFlag):
    VERIFY_DEFAULT = 0
    VERIFY_CRL_CHECK_LEAF = 4
    VERIFY_CRL_CHECK_CHAIN = 12
    VERIFY_X509_STRICT = 32
    VERIFY_X509_TRUSTED_FIRST = 32768
    VERIFY_ALLOW_PROXY_CERTS = 64
    VERIFY_X509_PARTIAL_CHAIN = 0x80000


globals().update(VerifyFlags.__members__)


class _SSLMethod(_enum.IntEnum):
    PROTOCOL_SSLv23 = 2
    PROTOCOL_TLS_CLIENT = 16
    PROTOCOL_TLS_SERVER = 17


PROTOCOL_SSLv23 = PROTOCOL_TLS = _SSLMethod.PROTOCOL_SSLv23
PROTOCOL_TLS_CLIENT = _SSLMethod.PROTOCOL_TLS_CLIENT
PROTOCOL_TLS_SERVER = _SSLMethod.PROTOCOL_TLS_SERVER


class Options(_enum.IntFlag):
    OP_ALL = 0x80000054
    OP_NO_SSLv2 = 0
    OP_NO_SSLv3 = 0x02000000
    OP_NO_TLSv1 = 0x04000000
    OP_NO_TLSv1_1 = 0x10000000
    OP_NO_TLSv1_2 = 0x08000000
    OP_NO_TLSv1_3 = 0x20000000
    OP_NO_COMPRESSION = 0x00020000
    OP_CIPHER_SERVER_PREFERENCE = 0x00400000
    OP_SINGLE_DH_USE = 0
    OP_SINGLE_ECDH_USE = 0
    OP_NO_TICKET = 0x00004000
    OP_NO_RENEGOTIATION = 0x40000000
    OP_ENABLE_MIDDLEBOX_COMPAT = 0x00100000
    OP_IGNORE_UNEXPECTED_EOF = 0x00000080
    OP_LEGACY_SERVER_CONNECT = 0x00000004


globals().update(Options.__members__)


class TLSVersion(_enum.IntEnum):
    MINIMUM_SUPPORTED = -2
    MAXIMUM_SUPPORTED = -1
    SSLv3 = 0x0300
    TLSv1 = 0x0301
    TLSv1_1 = 0x0302
    TLSv1_2 = 0x0303
    TLSv1_3 = 0x0304


class AlertDescription(_enum.IntEnum):
    ALERT_DESCRIPTION_HANDSHAKE_FAILURE = 40
    ALERT_DESCRIPTION_INTERNAL_ERROR = 80


class _ASN1Object(tuple):
    __slots__ = ()

    def __new__(cls, nid, shortname, longname, oid):
        return super().__new__(cls, (nid, shortname, longname, oid))

    nid = property(lambda self: self[0])
    shortname = property(lambda self: self[1])
    longname = property(lambda self: self[2])
    oid = property(lambda self: self[3])


class Purpose(_ASN1Object, _enum.Enum):
    SERVER_AUTH = (129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1")
    CLIENT_AUTH = (130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2")


class DefaultVerifyPaths(tuple):
    cafile = property(lambda self: self[0])
    capath = property(lambda self: self[1])
    openssl_cafile_env = property(lambda self: self[2])
    openssl_cafile = property(lambda self: self[3])
    openssl_capath_env = property(lambda self: self[4])
    openssl_capath = property(lambda self: self[5])


def get_default_verify_paths():
    return DefaultVerifyPaths((None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", ""))


_PEM_HEADER = "-----BEGIN CERTIFICATE-----"
_PEM_FOOTER = "-----END CERTIFICATE-----"


def DER_cert_to_PEM_cert(der_cert_bytes):
    body = _base64.standard_b64encode(der_cert_bytes).decode("ascii")
    return f"{_PEM_HEADER}\n" + "\n".join(_textwrap.wrap(body, 64)) + f"\n{_PEM_FOOTER}\n"


def PEM_cert_to_DER_cert(pem_cert_string):
    text = pem_cert_string.strip()
    if not text.startswith(_PEM_HEADER) or not text.endswith(_PEM_FOOTER):
        raise ValueError("Invalid PEM encoding")
    return _base64.decodebytes(text[len(_PEM_HEADER) : -len(_PEM_FOOTER)].encode("ascii"))


def _tls_error(error, server_name):
    message = error.value
    lowered = message.lower()
    if isinstance(error, _types.Error_Denied):
        return PermissionError(_errno.EACCES, message)
    if isinstance(error, _types.Error_Timeout):
        return TimeoutError(_errno.ETIMEDOUT, f"TLS handshake with {server_name} timed out")
    if "certificate" in lowered or ("name" in lowered and "not valid" in lowered):
        exc = SSLCertVerificationError(
            1,
            f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message} "
            "(the sandbox always verifies; an admin can add a CA to the server's trusted roots)",
        )
        exc.verify_message = message
        exc.reason = "CERTIFICATE_VERIFY_FAILED"
        return exc
    return SSLError(1, f"TLS with {server_name} failed: {message}")


class SSLContext:
    """Settings for client TLS. Verification always happens on the host."""

    sslsocket_class = None
    sslobject_class = None

    def __init__(self, protocol=None, *args, **kwargs):
        if protocol == PROTOCOL_TLS_SERVER:
            raise SSLError(1, "server-side TLS does not exist in the sandbox")
        self.protocol = PROTOCOL_TLS_CLIENT if protocol is None else protocol
        self.check_hostname = True
        self._verify_mode = CERT_REQUIRED
        self.verify_flags = VERIFY_X509_TRUSTED_FIRST
        self.options = OP_ALL | OP_NO_SSLv3 | OP_NO_COMPRESSION
        self.minimum_version = TLSVersion.TLSv1_2
        self.maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        self.post_handshake_auth = False
        self.keylog_filename = None
        self.sni_callback = None
        self.hostname_checks_common_name = False
        self.security_level = 2
        self._alpn = []

    @property
    def verify_mode(self):
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value):
        self._verify_mode = VerifyMode(value)

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        return None

    def set_default_verify_paths(self):
        return None

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        # The host's roots (and the admin's extra CAs) are the only trust anchors.
        if cafile is not None and not _os.path.exists(cafile):
            raise FileNotFoundError(_errno.ENOENT, "No such file or directory", cafile)
        return None

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        raise SSLError(1, "client certificates are not supported in the sandbox")

    def set_ciphers(self, ciphers):
        return None

    def get_ciphers(self):
        return []

    def set_alpn_protocols(self, protocols):
        self._alpn = [str(p) for p in protocols]

    def set_npn_protocols(self, protocols):
        return None

    def set_ecdh_curve(self, name):
        return None

    def cert_store_stats(self):
        return {"x509_ca": 0, "crl": 0, "x509": 0}

    def get_ca_certs(self, binary_form=False):
        return []

    def session_stats(self):
        return {}

    def wrap_socket(
        self,
        sock,
        server_side=False,
        do_handshake_on_connect=True,
        suppress_ragged_eofs=True,
        server_hostname=None,
        session=None,
    ):
        if server_side:
            raise SSLError(1, "server-side TLS does not exist in the sandbox")
        if not isinstance(sock, _socket.socket):
            raise TypeError(f"cannot wrap {type(sock).__name__} (not a sandbox socket)")
        if server_hostname is None and self.check_hostname:
            raise ValueError("check_hostname requires server_hostname")
        wrapped = SSLSocket._wrap(sock, self, server_hostname)
        if do_handshake_on_connect and wrapped._conn is not None:
            wrapped.do_handshake()
        return wrapped

    def wrap_bio(self, *args, **kwargs):
        raise SSLError(1, "memory-BIO TLS does not exist in the sandbox; use wrap_socket")


class SSLSocket(_socket.socket):
    """A sandbox socket whose bytes the host encrypts."""

    def __init__(self, *args, **kwargs):
        raise TypeError(
            f"{self.__class__.__name__} does not have a public constructor. "
            "Instances are returned by SSLContext.wrap_socket()."
        )

    @classmethod
    def _wrap(cls, sock, context, server_hostname):
        self = object.__new__(cls)
        self.__dict__.update(sock.__dict__)
        # The plain socket object gives its connection to this one.
        sock._conn = None
        sock._closed = True
        self.context = context
        self.server_hostname = server_hostname
        self.server_side = False
        self._info = None
        return self

    def connect(self, address):
        super().connect(address)
        self.do_handshake()

    def do_handshake(self, block=False):
        if self._info is not None:
            return
        conn = self._connection()
        name = self.server_hostname
        if name is None:
            name = (_socket._names_by_address.get(self._peer[0]) or [self._peer[0]])[0]
        options = _net.TlsOptions(server_name=name, alpn=list(self.context._alpn))
        try:
            self._info = conn.start_tls(options, _socket._timeout_ms(self._timeout))
        except Err as err:
            raise _tls_error(err.value, name) from None

    def version(self):
        return self._info.version if self._info else None

    def cipher(self):
        if self._info is None:
            return None
        return (self._info.cipher, self._info.version, None)

    def shared_ciphers(self):
        return [self.cipher()] if self._info else None

    def compression(self):
        return None

    def selected_alpn_protocol(self):
        return self._info.alpn if self._info else None

    def selected_npn_protocol(self):
        return None

    def getpeercert(self, binary_form=False):
        if self._info is None:
            raise ValueError("handshake not done yet")
        der = self._info.peer_certificate
        if binary_form:
            return der
        return _certificate_dict(der) if der else {}

    def get_channel_binding(self, cb_type="tls-unique"):
        return None

    def pending(self):
        return 0

    def unwrap(self):
        raise SSLError(1, "TLS cannot be taken off a connection in the sandbox")

    def verify_client_post_handshake(self):
        raise SSLError(1, "post-handshake authentication is not supported")

    def read(self, len=1024, buffer=None):
        if buffer is not None:
            return self.recv_into(buffer, len)
        return self.recv(len)

    def write(self, data):
        return self.send(data)

    @property
    def _sslobj(self):
        # CPython's private handshake object; httpcore reads ALPN and the peer
        # certificate through it (get_extra_info("ssl_object")). This socket has
        # the same methods, and is None until the handshake, as CPython's is.
        return self if self._info is not None else None

    @property
    def session(self):
        return None

    @property
    def session_reused(self):
        return False


SSLContext.sslsocket_class = SSLSocket


def upgrade(sock, context, server_hostname):
    """Turn the connected sandbox socket `sock` itself into a TLS socket (asyncio's
    `start_tls`, where the transport keeps its socket object)."""
    if not isinstance(sock, _socket.socket):
        raise TypeError(f"cannot start TLS on {type(sock).__name__}")
    if isinstance(sock, SSLSocket):
        raise ValueError("the connection already uses TLS")
    context = context if isinstance(context, SSLContext) else create_default_context()
    sock.__class__ = SSLSocket
    sock.context = context
    sock.server_hostname = server_hostname
    sock.server_side = False
    sock._info = None
    sock.do_handshake()
    return sock


def create_default_context(purpose=Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
    if purpose != Purpose.SERVER_AUTH:
        raise SSLError(1, "server-side TLS does not exist in the sandbox")
    context = SSLContext(PROTOCOL_TLS_CLIENT)
    if cafile or capath or cadata:
        context.load_verify_locations(cafile, capath, cadata)
    return context


_create_default_https_context = create_default_context


def _create_unverified_context(*args, **kwargs):
    # Verification cannot be turned off in the sandbox; the context still verifies.
    return create_default_context()


_create_stdlib_context = _create_unverified_context


def wrap_socket(sock, keyfile=None, certfile=None, server_side=False, cert_reqs=CERT_NONE,
                ssl_version=PROTOCOL_TLS, ca_certs=None, do_handshake_on_connect=True,
                suppress_ragged_eofs=True, ciphers=None, server_hostname=None):
    context = create_default_context()
    context.check_hostname = False
    return context.wrap_socket(sock, server_hostname=server_hostname,
                               do_handshake_on_connect=do_handshake_on_connect)


def get_server_certificate(addr, ssl_version=PROTOCOL_TLS_CLIENT, ca_certs=None, timeout=None):
    host, port = addr
    with _socket.create_connection(addr, timeout=timeout) as sock:
        with create_default_context().wrap_socket(sock, server_hostname=host) as tls:
            return DER_cert_to_PEM_cert(tls.getpeercert(True))


def RAND_bytes(n):
    return _os.urandom(n)


def RAND_status():
    return True


def RAND_add(data, entropy):
    return None


class MemoryBIO:
    def __init__(self):
        raise SSLError(1, "memory-BIO TLS does not exist in the sandbox; use wrap_socket")


class SSLObject:
    def __init__(self, *args, **kwargs):
        raise SSLError(1, "memory-BIO TLS does not exist in the sandbox; use wrap_socket")


class SSLSession:
    pass


# -- a small DER reader for getpeercert()'s dictionary ------------------------------

_OID_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
}


def _der_items(data):
    """(tag, content) pairs of the DER elements in `data`."""
    i = 0
    while i < len(data):
        tag = data[i]
        length = data[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        yield tag, data[i : i + length]
        i += length


def _oid(content):
    first = content[0]
    parts = [first // 40, first % 40]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _name(content):
    rdns = []
    for _, rdn in _der_items(content):
        entries = []
        for _, attribute in _der_items(rdn):
            (_, oid), (_, value) = list(_der_items(attribute))[:2]
            key = _OID_NAMES.get(_oid(oid), _oid(oid))
            entries.append((key, value.decode("utf-8", "replace")))
        rdns.append(tuple(entries))
    return tuple(rdns)


def _time(tag, content):
    import datetime

    text = content.decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    moment = datetime.datetime.strptime(text, fmt)
    return moment.strftime("%b %d %H:%M:%S %Y GMT")


def _certificate_dict(der):
    """The parts of a certificate `getpeercert()` reports, as the standard module does."""
    try:
        (_, certificate), = list(_der_items(der))[:1]
        (_, tbs) = next(_der_items(certificate))
        fields = list(_der_items(tbs))
        if fields and fields[0][0] == 0xA0:  # explicit version
            fields = fields[1:]
        serial, _signature, issuer, validity, subject = fields[:5]
        not_before, not_after = list(_der_items(validity[1]))[:2]
        result = {
            "subject": _name(subject[1]),
            "issuer": _name(issuer[1]),
            "version": 3,
            "serialNumber": serial[1].hex().upper(),
            "notBefore": _time(*not_before),
            "notAfter": _time(*not_after),
        }
        for tag, content in fields[5:]:
            if tag != 0xA3:
                continue
            (_, extensions), = list(_der_items(content))[:1]
            for _, extension in _der_items(extensions):
                parts = list(_der_items(extension))
                if _oid(parts[0][1]) != "2.5.29.17":
                    continue
                (_, names), = list(_der_items(parts[-1][1]))[:1]
                alt = []
                for name_tag, value in _der_items(names):
                    if name_tag == 0x82:
                        alt.append(("DNS", value.decode("ascii", "replace")))
                    elif name_tag == 0x87:
                        import ipaddress

                        alt.append(("IP Address", str(ipaddress.ip_address(value))))
                result["subjectAltName"] = tuple(alt)
        return result
    except Exception:
        return {}


def install():
    """Make this the interpreter's `ssl` module (at build time, in the snapshot)."""
    import sys

    sys.modules["ssl"] = sys.modules[__spec__.name]
