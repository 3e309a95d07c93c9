"""`demo`: the demo deployment (refused unless DEMO_MODE=true)."""
from __future__ import annotations

import click

from search_app.audit.actions import Action
from search_app.cli._common import _audit


@click.command("demo")
@click.option("--queue/--sync", default=True)
def demo_cmd(queue: bool) -> None:
    """Demo users (published passwords), a demo grant and the bundled demo scans (safe to run
    twice). Refused unless DEMO_MODE=true: a real deployment must never hold those accounts."""
    from search_app.demo import DemoRefused, setup_demo

    try:
        setup_demo(queue=queue, echo=click.echo)
    except DemoRefused as exc:
        _audit(Action.CLI_DEMO, outcome="denied", reason=str(exc))
        raise click.ClickException(str(exc)) from None
    _audit(Action.CLI_DEMO, queue=queue)
