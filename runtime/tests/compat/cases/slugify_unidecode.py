from slugify import slugify
from text_unidecode import unidecode
print(slugify("Héllo Wörld: Ça va?"), slugify("日本語 テキスト"), slugify("This is a test ---", separator="_"))
print(slugify("the quick brown fox jumps", max_length=15, word_boundary=True), slugify("C++ & Rust", replacements=[["++", "pp"]]))
print(unidecode("Ünïcödé ßtraße Ελλάδα"))
