"""Keeping the gettext catalogs (`leadcall/locales/<lang>/LC_MESSAGES/messages.po`) in step with the code.

`leadcall messages add` writes a message in both languages, `leadcall messages check` lists what is missing;
the tests run the same check. Keys written out in templates (`t("key")`, `tn("key", n)`) and Python
(`translate(lang, "key")`, `translate_plural(lang, "key", n)`) are found with Babel's extractors (Jinja2's
for the templates, Babel's own for Python, as babel.cfg maps them); keys built from a domain value or an
error code are chosen in code and tied down by tests/e2e/test_i18n.py.

The files are written sorted by key and without source locations, so two people adding texts in different
places of the product touch different lines of the files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from leadcall.web.i18n import LANGUAGES, catalog_path, read_catalog

SRC_DIR = Path(__file__).resolve().parent.parent
# The same keywords as the README's `pybabel extract` command: msgid first; tn's count is not a message.
KEYWORDS: dict[str, tuple[int, ...]] = {"t": (1,), "tn": (1, 1), "translate": (2,), "translate_plural": (2, 2)}
METHODS = [("web/templates/**.html", "jinja2"), ("web/**.py", "python")]
PLACEHOLDER = re.compile(r"{(\w+)}")


def write_catalog(language: str, catalog: Catalog) -> None:
    catalog.fuzzy = False  # the header: a fuzzy one would make `pybabel compile` skip the file
    with catalog_path(language).open("wb") as po:
        write_po(po, catalog, width=120, no_location=True, sort_output=True)


def used_keys() -> dict[str, bool]:
    """Each key written out in the pages' templates and Python, and whether it is used as a plural."""
    found: dict[str, bool] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            SRC_DIR, METHODS, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
        key = message[0] if isinstance(message, tuple) else message
        if key and re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+|[a-z_]+", key):
            found[key] = found.get(key, False) or isinstance(message, tuple)
    return found


def plural_count(language: str) -> int:
    return read_catalog(language).num_plurals


def add(key: str, texts: dict[str, Sequence[str]]) -> None:
    """Writes `key` in every language: one text, or for a plural message its singular and plural (a language
    with more plural forms, as Spanish's "many" for millions, repeats the plural)."""
    forms = {len(v) for v in texts.values()}
    if set(texts) != set(LANGUAGES) or forms - {1, 2} or len(forms) != 1:
        raise ValueError(f"give {key} one text, or a singular and a plural, in each of {', '.join(LANGUAGES)}")
    for language in LANGUAGES:
        catalog = read_catalog(language)
        given = list(texts[language])
        if len(given) == 2:
            strings = given + [given[1]] * (catalog.num_plurals - 2)
            catalog.delete(key)
            catalog.add((key, key), tuple(strings))
        else:
            catalog.delete(key)
            catalog.add(key, given[0])
        write_catalog(language, catalog)


def problems() -> list[str]:
    """What keeps the catalogs from being complete: keys used but missing, untranslated messages, messages whose
    languages name different placeholders, plurals used as single texts or the reverse."""
    found: list[str] = []
    catalogs = {language: read_catalog(language) for language in LANGUAGES}
    entries = {language: {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
               for language, catalog in catalogs.items()}
    keys = set().union(*(e.keys() for e in entries.values()))
    for key in sorted(keys):
        placeholders: dict[str, set[str]] = {}
        for language in LANGUAGES:
            message = entries[language].get(key)
            strings = ([] if message is None or not message.string else
                       [message.string] if isinstance(message.string, str) else list(message.string))
            if not strings or not all(s.strip() for s in strings) or (message and message.fuzzy):
                found.append(f"{key}: no {language} text")
                continue
            placeholders[language] = {p for s in strings for p in PLACEHOLDER.findall(s)}
        if len({frozenset(p) for p in placeholders.values()}) > 1:
            found.append(f"{key}: the languages name different placeholders {placeholders}")
    for key, plural in sorted(used_keys().items()):
        for language in LANGUAGES:
            message = entries[language].get(key)
            if message is None:
                found.append(f"{key}: used in the code, missing from the {language} catalog")
            elif plural != isinstance(message.id, tuple):
                found.append(f"{key}: used as {'a plural' if plural else 'one text'}, not so in the {language} catalog")
    return found
