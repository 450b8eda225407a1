"""Send email through the server's SMTP settings, to allowed recipients only."""

from wit_world.imports import email as _host

from .errors import call


def _addresses(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def send(to, subject, text="", *, html=None, cc=None, bcc=None, reply_to=None, attachments=None):
    """Send one message. `attachments` is a list of (filename, bytes[, content_type])."""
    files = []
    for item in attachments or []:
        filename, data, *rest = item
        if isinstance(data, str):
            data = data.encode("utf-8")
        content_type = rest[0] if rest else "application/octet-stream"
        files.append(_host.Attachment(str(filename), content_type, bytes(data)))
    message = _host.Message(
        to=_addresses(to),
        cc=_addresses(cc),
        bcc=_addresses(bcc),
        subject=str(subject),
        text=str(text),
        html=html,
        reply_to=reply_to,
        attachments=files,
    )
    call("email.send", _host.send, message)
