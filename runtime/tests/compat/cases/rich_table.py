from io import StringIO
from rich.console import Console
from rich.table import Table
from rich.panel import Panel
from rich.markdown import Markdown
buf = StringIO()
console = Console(file=buf, width=60, color_system=None, force_terminal=False)
t = Table(title="Jobs")
t.add_column("id", justify="right")
t.add_column("script")
t.add_column("status")
t.add_row("1", "backup.py", "succeeded")
t.add_row("2", "report.py", "failed")
console.print(t)
console.print(Panel("done", title="summary"))
console.print(Markdown("# Head\n\n* one\n* **two**"))
print(buf.getvalue())
