import click
from click.testing import CliRunner

@click.group()
def cli():
    "A tool."

@cli.command()
@click.option("--count", default=1, type=int, help="How many.")
@click.option("--shout/--no-shout", default=False)
@click.argument("name")
def hello(count, shout, name):
    for _ in range(count):
        msg = f"Hello {name}!"
        click.echo(msg.upper() if shout else msg)

runner = CliRunner()
r = runner.invoke(cli, ["hello", "--count", "2", "--shout", "ada"])
print(r.exit_code, repr(r.output))
r = runner.invoke(cli, ["hello", "--count", "x", "ada"])
print(r.exit_code, r.output.splitlines()[-1])
print(runner.invoke(cli, ["--help"]).output)
