import markdown
src = """# Title

Some *emphasis*, `code` and a [link](https://a.example).

| a | b |
|---|---|
| 1 | 2 |

```python
print("hi")
```
"""
print(markdown.markdown(src, extensions=["tables", "fenced_code", "toc"]))
