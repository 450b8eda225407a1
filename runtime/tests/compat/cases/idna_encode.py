import idna
print(idna.encode("bücher.example"), idna.decode("xn--bcher-kva.example"))
print(idna.encode("ドメイン.テスト").decode())
try:
    idna.encode("a..b")
except idna.IDNAError as e:
    print("error:", type(e).__name__)
print("bücher.example".encode("idna"))
