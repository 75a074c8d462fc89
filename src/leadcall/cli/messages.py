"""`leadcall messages add|check`: the web app's texts in the gettext catalogs (web/catalogs.py)."""

from __future__ import annotations

import typer

from leadcall.web import catalogs

app = typer.Typer(help="The web app's texts: add one in Spanish and English, check the catalogs.",
                  no_args_is_help=True)


@app.command("add")
def add(key: str = typer.Argument(..., help="The message key, dotted: area.name"),
        es: list[str] = typer.Option(..., "--es", help="The Spanish text; twice for a plural: singular, plural"),
        en: list[str] = typer.Option(..., "--en", help="The English text; twice for a plural: singular, plural")) -> None:
    try:
        catalogs.add(key, {"es": es, "en": en})
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{key}: written in es and en")


@app.command("check")
def check() -> None:
    found = catalogs.problems()
    for line in found:
        typer.echo(line)
    if found:
        raise typer.Exit(1)
    typer.echo("the catalogs are complete: every key used is translated in es and en")
