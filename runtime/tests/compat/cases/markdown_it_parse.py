from markdown_it import MarkdownIt
md = MarkdownIt("commonmark").enable("table")
print(md.render("## Hi\n\n- a\n- *b*\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"))
print([t.type for t in md.parse("> quote **bold**")])
