from io import StringIO
from rich.console import Console
from rich.syntax import Syntax
buf = StringIO()
console = Console(file=buf, width=50, color_system="truecolor", force_terminal=True)
console.print("[bold red]alert[/] [green]ok[/]")
console.print(Syntax("def f(x):\n    return x + 1\n", "python", theme="monokai"))
out = buf.getvalue()
print(repr(out[:40]), len(out), "\x1b[1;31m" in out)
