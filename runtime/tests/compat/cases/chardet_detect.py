import chardet
text = "Ça va très bien, merci beaucoup. Les élèves étudient à l'école française depuis des années."
for enc in ["utf-8", "utf-16"]:
    r = chardet.detect(text.encode(enc))
    print(enc, r["encoding"], r["confidence"] > 0.5)
print(chardet.detect(b"plain ascii text")["encoding"])
