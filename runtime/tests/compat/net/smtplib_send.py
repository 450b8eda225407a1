import smtplib
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "robot@automa.example"
msg["To"] = "ops@automa.example"
msg["Subject"] = "compat: nightly report"
msg.set_content("All 42 jobs succeeded.")
with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=5) as s:
    code, banner = s.ehlo()
    print(code, s.has_extn("size"))
    print(s.send_message(msg))
    print(s.noop()[0])
