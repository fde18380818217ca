"""No fenced block of the documents is left out of the docs' tests.

Sybil runs only the blocks its parsers claim (python, bash, sh: see
conftest.py); a block in another language, or with none, would silently
never run. Sybil's own lexer finds every fence; each must be claimed.
"""
from __future__ import annotations

import re

from sybil import Document
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

ANY_FENCE = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<language>[^\n]*)\n"))


def test_documents_are_found(docs_config):
    root, documents, _ = docs_config
    names = {path.relative_to(root).as_posix() for path in documents}
    assert {"README.md", "docs/io.md", "docs/architecture.md", "docs/runners/dask.md"} <= names


def test_every_fenced_block_is_run_or_skipped_with_a_reason(docs_config):
    root, documents, sybils = docs_config
    left_out = []
    for path in documents:
        claimed = set()
        for sybil in sybils:
            if sybil.should_parse(path):
                claimed.update(start for start, _ in sybil.parse(path).regions)
        text = path.read_text()
        for region in ANY_FENCE(Document(text, str(path))):
            # a code block's region starts at its fence; a doctest's at its first >>>
            if not any(region.start <= start < region.end for start in claimed):
                line = text.count("\n", 0, region.start) + 1
                left_out.append(f"{path.relative_to(root)} line {line}: ```{region.lexemes['language']}")
    assert not left_out, "blocks no test runs (give them a language conftest.py runs): " + ", ".join(left_out)


def test_relative_links_resolve_inside_the_repository(docs_config):
    # issue 15: README and docs linked ../shared/design.md, which no clone has
    root, documents, _ = docs_config
    broken = []
    for path in documents:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                broken.append(f"{path.relative_to(root)} -> {target}")
    assert not broken, "links that lead nowhere in a clone: " + ", ".join(broken)
