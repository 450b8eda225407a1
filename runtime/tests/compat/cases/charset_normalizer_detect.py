from charset_normalizer import from_bytes
text = "Привет, мир! Это проверка определения кодировки текста на русском языке, довольно длинная строка."
best = from_bytes(text.encode("cp1251")).best()
print(best.encoding, str(best) == text, best.language)
best = from_bytes("日本語のテキストです。文字コードを判定します。".encode("utf-8")).best()
print(best.encoding, str(best)[:5])
