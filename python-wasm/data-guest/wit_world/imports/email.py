"""`automa:host/email`."""

from dataclasses import dataclass
from typing import List, Optional

from automa_door import call


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Message:
    to: List[str]
    cc: List[str]
    bcc: List[str]
    subject: str
    text: str
    html: Optional[str]
    reply_to: Optional[str]
    attachments: List[Attachment]


def send(msg):
    call(
        "email.send",
        to=msg.to,
        cc=msg.cc,
        bcc=msg.bcc,
        subject=msg.subject,
        text=msg.text,
        html=msg.html,
        reply_to=msg.reply_to,
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "data": a.data}
            for a in msg.attachments
        ],
    )
