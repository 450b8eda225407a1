from bs4 import BeautifulSoup
html = """<html><body><div id="main"><h1>News</h1>
<ul class="items"><li><a href="/a" data-x="1">First</a></li><li class="hot"><a href="/b">Second</a></li>
<li><a href="https://c.example/">Third</a></li></ul><p>Tail &amp; end</p></div></body></html>"""
soup = BeautifulSoup(html, "html.parser")
print(soup.h1.get_text(), [a["href"] for a in soup.find_all("a")])
print([a.text for a in soup.select("ul.items > li:not(.hot) a")], soup.select_one("li.hot a").text)
print(soup.select("a[data-x]")[0].text, soup.find("p").string, len(soup.select("li:nth-of-type(odd)")))
soup.find("p").decompose()
print(soup.find(id="main").get_text("|", strip=True))
