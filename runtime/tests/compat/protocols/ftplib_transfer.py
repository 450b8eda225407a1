import ftplib, hashlib, io, sys
ftp = ftplib.FTP()
print(ftp.connect("127.0.0.1", FTP_PORT, timeout=10))
print(ftp.login(FTP_USER, FTP_PASSWORD))
ftp.set_pasv(True)
print(ftp.pwd(), ftp.cwd("reports"))
print(ftp.nlst())
lines = []
print(ftp.retrlines("LIST", lines.append))
print([(l.split()[0][0], l.split()[4], l.split()[-1]) for l in lines])
got = io.BytesIO()
print(ftp.retrbinary("RETR summary.csv", got.write, blocksize=7))
print(got.getvalue().decode().splitlines())
print(ftp.size("summary.csv"))
ftp.cwd("/uploads")
# A megabyte and then some, fed in odd-sized blocks: many data writes.
blob = bytes(range(256)) * 4099 + b"end"
name = "blob-%s.bin" % ("sandbox" if sys.platform == "wasi" else "native")
print(ftp.storbinary("STOR " + name, io.BytesIO(blob), blocksize=10000))
print(ftp.size(name), hashlib.sha256(blob).hexdigest()[:16])
back = bytearray()
ftp.retrbinary("RETR " + name, back.extend)
print(len(back), bytes(back) == blob)
print(ftp.storlines("STOR notes.txt", io.BytesIO(b"line one\nline two\n")))
ftp.retrlines("RETR notes.txt", print)
print(ftp.rename("notes.txt", "done.txt"), ftp.delete("done.txt"))
try:
    ftp.retrbinary("RETR missing.txt", print)
except ftplib.error_perm as e:
    print("error:", str(e)[:3])
print(ftp.quit())
