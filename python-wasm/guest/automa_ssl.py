"""The `ssl` module of the sandbox: TLS that the host performs.

The interpreter has no OpenSSL. A script's TLS is done by the host with rustls,
verifying the server's certificate against the web's root CAs and the extra CAs an
admin configured, for the name the script asked for (SNI). The API is the standard
module's, in its two forms:

- on a socket: `ssl.create_default_context().wrap_socket(sock, server_hostname=...)`
  has the host's connection itself speak TLS (`http.client`, `requests`, `smtplib`);
- on memory buffers: `SSLContext.wrap_bio(MemoryBIO(), MemoryBIO(), server_hostname=...)`
  gives an `SSLObject` whose ciphertext the script carries itself, as asyncio's
  `sslproto` and anyio's `TLSStream` (so `httpx.AsyncClient`) do. Its TLS engine is a
  host `tls-session`: the same trust and verification, bounded buffers.

What differs, on purpose: certificate verification cannot be turned off and the
trusted roots cannot be changed from a script (`check_hostname = False`,
`CERT_NONE` and `load_verify_locations` are accepted and have no effect); client
certificates and server-side TLS do not exist.
"""

import base64 as _base64
import enum as _enum
import errno as _errno
import ipaddress as _ipaddress
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


def _verify_code(message, server_name=None):
    """OpenSSL's verification code and text for the host's certificate failure."""
    lowered = message.lower()
    if "not valid for name" in lowered:
        if _is_ip_address(server_name):
            # OpenSSL tells a wrong IP address from a wrong host name.
            return 64, f"IP address mismatch, certificate is not valid for {server_name!r}."
        return 62, f"Hostname mismatch, certificate is not valid: {message}"
    if "unknownissuer" in lowered or "unknown issuer" in lowered:
        return 20, "unable to get local issuer certificate"
    if "expired" in lowered:
        return 10, "certificate has expired"
    if "not valid yet" in lowered:
        return 9, "certificate is not yet valid"
    return 0, message


def _is_ip_address(name):
    try:
        _ipaddress.ip_address(name)
        return True
    except (TypeError, ValueError):
        return False


def _tls_error(error, server_name):
    message = error.value
    lowered = message.lower()
    if isinstance(error, _types.Error_Denied):
        return PermissionError(_errno.EACCES, message)
    if isinstance(error, _types.Error_Timeout):
        return TimeoutError(_errno.ETIMEDOUT, f"TLS handshake with {server_name} timed out")
    if "certificate" in lowered or ("name" in lowered and "not valid" in lowered):
        # The host's text already starts as OpenSSL's does.
        detail = message.removeprefix("certificate verify failed: ")
        exc = SSLCertVerificationError(
            1,
            f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {detail} "
            "(the sandbox always verifies; an admin can add a CA to the server's trusted roots)",
        )
        exc.verify_code, exc.verify_message = _verify_code(message, server_name)
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

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        return self.sslobject_class._create(
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
            context=self,
        )

    def _encode_hostname(self, hostname):
        """The server name as CPython keeps it: IDNA (ASCII) text; None stays None."""
        if hostname is None:
            return None
        if isinstance(hostname, str):
            name = hostname.encode("idna").decode("ascii")
        elif isinstance(hostname, (bytes, bytearray)):
            name = bytes(hostname).decode("ascii")
        else:
            raise TypeError(f"server_hostname must be str or bytes, not {type(hostname).__name__}")
        if not name or name.startswith("."):
            raise ValueError("server_hostname cannot be an empty string or start with a leading dot.")
        if "\0" in name:
            raise ValueError("server_hostname must not contain null characters")
        return name


class _Agreed:
    """What a finished handshake agreed on (`self._info`, the host's `tls-info`), as
    `SSLSocket` and `SSLObject` both report it."""

    _info = None

    def version(self):
        return self._info.version if self._info else None

    def cipher(self):
        return _cipher(self._info)

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

    def get_verified_chain(self):
        # The host keeps the peer's leaf certificate only.
        der = self._info.peer_certificate if self._info else None
        return [der] if der else []

    get_unverified_chain = get_verified_chain

    def get_channel_binding(self, cb_type="tls-unique"):
        if cb_type != "tls-unique":
            raise ValueError(f"{cb_type} channel binding type not implemented")
        return None

    def verify_client_post_handshake(self):
        raise SSLError(1, "post-handshake authentication is not supported")


class SSLSocket(_Agreed, _socket.socket):
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

    def shared_ciphers(self):
        return [self.cipher()] if self._info else None

    def pending(self):
        return 0

    def unwrap(self):
        raise SSLError(1, "TLS cannot be taken off a connection in the sandbox")

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


# -- TLS on memory buffers: MemoryBIO, SSLObject (asyncio's and anyio's TLS) ---------

# The most bytes taken from the host's TLS session in one call (the host's own bound).
_CHUNK = 256 * 1024
# Ciphertext handed to the session per call: it takes about 20 KiB before its
# plaintext must be read, so a larger piece would be copied to the host again and
# again (a 256 KiB piece ran 5 times slower).
_FEED = 32 * 1024
# Plaintext encrypted per call: one call's ciphertext stays within the session's
# 64 KiB bound of waiting records.
_WRITE_CHUNK = 32 * 1024


class MemoryBIO:
    """A buffer of bytes between an `SSLObject` and the script's own transport: the
    ciphertext that came from the peer (incoming) or is to be sent to it (outgoing)."""

    def __init__(self):
        self._buf = bytearray()
        self._eof = False

    @property
    def pending(self):
        """The number of bytes in the buffer."""
        return len(self._buf)

    @property
    def eof(self):
        """Whether the end of stream was written and every byte has been read."""
        return self._eof and not self._buf

    def read(self, size=-1):
        size = len(self._buf) if size is None or size < 0 else min(size, len(self._buf))
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def write(self, b):
        if self._eof:
            raise SSLError(1, "cannot write() after write_eof()")
        with memoryview(b) as view:
            if not view.contiguous:
                raise BufferError("memoryview: underlying buffer is not C-contiguous")
            self._buf += view.cast("B")
            return view.nbytes

    def write_eof(self):
        self._eof = True

    def __repr__(self):
        return f"<ssl.MemoryBIO pending={len(self._buf)} eof={self._eof}>"


class _SSLRefusedError(SSLError, PermissionError):
    """The sandbox refused a TLS session (no open connection to carry it, or the
    run's cap). An `SSLError`, so TLS layers report it as a failed handshake, and a
    `PermissionError`, as every refusal of the sandbox is."""


def _eof_error(during):
    return SSLEOFError(
        8,
        "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol "
        f"(the peer closed the connection without a TLS close_notify {during})",
    )


def _want_read():
    return SSLWantReadError(2, "The operation did not complete (read)")


def _session_error(error, server_name):
    """The exception for a host error from a TLS session for `server_name`."""
    message = error.value
    if isinstance(error, (_types.Error_Denied, _types.Error_LimitReached)):
        code = _errno.EACCES if isinstance(error, _types.Error_Denied) else _errno.EDQUOT
        exc = _SSLRefusedError(code, message)
        exc.reason = "SANDBOX_REFUSED"
        return exc
    if isinstance(error, _types.Error_Failed) and message.startswith("certificate verify failed"):
        return _tls_error(error, server_name)
    exc = SSLError(1, message)
    return exc


_SECRET_BITS = (("AES_128", 128), ("AES_256", 256), ("CHACHA20", 256))


def _cipher(info):
    if info is None:
        return None
    bits = next((n for key, n in _SECRET_BITS if key in info.cipher), None)
    return (info.cipher, info.version, bits)


class SSLObject(_Agreed):
    """TLS over two `MemoryBIO`s, as the standard module's: `do_handshake`, `read`,
    `write` and `unwrap` take ciphertext from `incoming`, put ciphertext for the peer
    into `outgoing`, and raise `SSLWantReadError` when they need more from the peer.
    The TLS engine is the host's (`tls-session`): the certificate is verified on the
    host for `server_hostname`, always."""

    def __init__(self, *args, **kwargs):
        raise TypeError(
            f"{self.__class__.__name__} does not have a public constructor. "
            "Instances are returned by SSLContext.wrap_bio()."
        )

    @classmethod
    def _create(cls, incoming, outgoing, server_side=False, server_hostname=None,
                session=None, context=None):
        if not isinstance(incoming, MemoryBIO) or not isinstance(outgoing, MemoryBIO):
            raise TypeError("wrap_bio() needs two ssl.MemoryBIO objects")
        if server_side:
            raise SSLError(1, "server-side TLS does not exist in the sandbox")
        context = context if context is not None else create_default_context()
        name = context._encode_hostname(server_hostname)
        if name is None:
            if context.check_hostname:
                raise ValueError("check_hostname requires server_hostname")
            raise SSLError(
                1,
                "the sandbox verifies every TLS server's certificate against a name: "
                "give server_hostname",
            )
        self = cls.__new__(cls)
        self._incoming = incoming
        self._outgoing = outgoing
        self._context = context
        self._server_hostname = name
        self._info = None
        self._failure = None
        self._eof_given = False
        self._close_sent = False
        self._unwrapped = False
        self._tls = None
        try:
            self._tls = _net.new_tls_session(name, list(context._alpn))
        except Err as err:
            error = err.value
            if isinstance(error, _types.Error_InvalidInput):
                raise ValueError(error.value) from None
            raise _session_error(error, name) from None
        return self

    # -- the engine ------------------------------------------------------------------

    def _call(self, fn, *args):
        """A call into the host session; a TLS failure ends the session for good."""
        if self._failure is not None:
            raise self._failure
        if self._tls is None:
            raise SSLError(1, "the TLS session is closed")
        try:
            return fn(*args)
        except Err as err:
            exc = _session_error(err.value, self._server_hostname)
            self._drain()  # the alert for the peer, when there is one
            self._failure = exc
            self._release()
            raise exc from None

    def _release(self):
        tls, self._tls = self._tls, None
        if tls is not None:
            tls.__exit__(None, None, None)

    def _feed(self):
        """Give the session the ciphertext waiting in the incoming BIO (and its end of
        stream); the session's state after it."""
        bio = self._incoming
        status = None
        while bio._buf:
            chunk = bytes(bio._buf[:_FEED])
            taken, status = self._call(self._tls.receive, chunk)
            del bio._buf[:taken]
            if taken < len(chunk):
                break  # the session's buffers are full until its plaintext is read
        if bio._eof and not bio._buf and not self._eof_given:
            self._eof_given = True
            status = self._call(self._tls.receive_eof)
        if status is None:
            status = self._call(self._tls.status)
        if status.outgoing:
            self._drain()
        return status

    def _drain(self):
        """Move the ciphertext waiting in the session into the outgoing BIO."""
        tls = self._tls
        while tls is not None:
            data = tls.transmit(_CHUNK)
            self._outgoing._buf += data
            if len(data) < _CHUNK:
                break

    def __del__(self):
        try:
            self._release()
        except Exception:
            pass

    # -- the standard methods --------------------------------------------------------

    @property
    def context(self):
        return self._context

    @context.setter
    def context(self, ctx):
        if not isinstance(ctx, SSLContext):
            raise TypeError("The value must be a SSLContext")
        self._context = ctx

    @property
    def session(self):
        return None

    @session.setter
    def session(self, value):
        if value is not None:
            raise ValueError("TLS session resumption is not available in the sandbox")

    @property
    def session_reused(self):
        return False

    @property
    def server_side(self):
        return False

    @property
    def server_hostname(self):
        return self._server_hostname

    def do_handshake(self):
        if self._info is not None:
            return
        status = self._feed()
        if status.handshaking:
            if status.eof or status.peer_closed:
                self._failure = _eof_error("during the handshake")
                self._release()
                raise self._failure
            raise _want_read()
        self._info = self._tls.info()

    def read(self, len=1024, buffer=None):
        if buffer is not None:
            view = memoryview(buffer).cast("B")
            size = view.nbytes if len <= 0 or len > view.nbytes else len
        else:
            if len < 0:
                raise ValueError("size should not be negative")
            view, size = None, len
        self._check_open()
        if self._info is None:
            self.do_handshake()
        if size == 0:
            return 0 if view is not None else b""
        status = self._feed()
        if not (status.plaintext or status.peer_closed or status.eof):
            raise _want_read()
        result = self._call(self._tls.read, min(size, _CHUNK))
        if isinstance(result, _net.TlsRead_Data):
            data = result.value
        elif isinstance(result, _net.TlsRead_WantMore):
            raise _want_read()
        elif isinstance(result, _net.TlsRead_Closed):
            data = b""
        elif self._context.options & OP_IGNORE_UNEXPECTED_EOF:
            data = b""
        else:
            raise _eof_error("while reading")
        if view is None:
            return data
        view[: builtins_len(data)] = data
        return builtins_len(data)

    def write(self, data):
        with memoryview(data) as view:
            view = view.cast("B")
            self._check_open()
            if self._close_sent:
                raise SSLError(1, "[SSL: PROTOCOL_IS_SHUTDOWN] protocol is shutdown")
            if self._info is None:
                self.do_handshake()
            total = 0
            while total < view.nbytes:
                taken = self._call(self._tls.write, bytes(view[total : total + _WRITE_CHUNK]))
                moved = self._outgoing.pending
                self._drain()
                if not taken and self._outgoing.pending == moved:
                    raise SSLWantWriteError(3, "The operation did not complete (write)")
                total += taken
            return total

    def pending(self):
        if self._info is None or self._tls is None or self._failure is not None:
            return 0
        return self._call(self._tls.status).plaintext

    def unwrap(self):
        self._check_open()
        if self._info is None:
            raise SSLError(1, "[SSL: SHUTDOWN_WHILE_IN_INIT] shutdown while in init")
        if self._unwrapped:
            return None
        if not self._close_sent:
            self._close_sent = True
            self._tls.close()
            self._drain()
        while True:
            status = self._feed()
            if not status.plaintext:
                break
            # Data the peer sent before its close_notify is dropped, as OpenSSL does.
            self._call(self._tls.read, _CHUNK)
        if status.peer_closed or (
            status.eof and self._context.options & OP_IGNORE_UNEXPECTED_EOF
        ):
            self._unwrapped = True
            self._release()
            return None
        if status.eof:
            self._failure = _eof_error("during the closing handshake")
            self._release()
            raise self._failure
        raise _want_read()

    def _check_open(self):
        if self._failure is not None:
            raise self._failure
        if self._unwrapped:
            raise SSLError(1, "[SSL: PROTOCOL_IS_SHUTDOWN] protocol is shutdown")

    def shared_ciphers(self):
        return None

    def __repr__(self):
        state = "handshaking" if self._info is None else self._info.version
        return f"<ssl.SSLObject {self._server_hostname} {state}>"


builtins_len = len
SSLContext.sslobject_class = SSLObject


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
