from pygments import highlight
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.formatters import HtmlFormatter, TerminalFormatter
code = "def add(a, b):\n    return a + b  # sum\n"
print(highlight(code, PythonLexer(), HtmlFormatter(nowrap=True)))
print(repr(highlight("SELECT 1;", get_lexer_by_name("sql"), TerminalFormatter())))
