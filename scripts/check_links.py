#!/usr/bin/env python3
"""Checks that every relative link in the repository's Markdown resolves.

A link to a file must name a file or folder that exists; a link with a
`#fragment` must name a heading of the target (GitHub's anchor rules: lower
case, punctuation dropped, spaces to hyphens, repeats numbered). External
links (a scheme such as https:) are not fetched. Exits 1 naming every broken
link as FILE:LINE: LINK (why).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|\!\[[^\]]*\]\(([^)\s]+)\)")


def markdown_files():
    for name in sorted(os.listdir(ROOT)):
        if name.endswith(".md"):
            yield os.path.join(ROOT, name)
    for folder in ("docs", "deploy"):
        for base, dirs, files in os.walk(os.path.join(ROOT, folder)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".md"):
                    yield os.path.join(base, name)


def anchors(path):
    """The heading anchors GitHub gives the file at path."""
    seen = {}
    result = set()
    fenced = False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("```"):
                fenced = not fenced
                continue
            match = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if not match:
                continue
            text = re.sub(r"`|\*|_(?=\w)|(?<=\w)_", "", match.group(2))
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def main():
    problems = []
    cache = {}
    for path in markdown_files():
        fenced = False
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.startswith("```"):
                    fenced = not fenced
                    continue
                if fenced:
                    continue
                for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                    link = match.group(1) or match.group(2)
                    if re.match(r"^[a-z][a-z0-9+.-]*:", link):
                        continue
                    target, _, fragment = link.partition("#")
                    resolved = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
                    where = f"{os.path.relpath(path, ROOT)}:{number}: {link}"
                    if not os.path.exists(resolved):
                        problems.append(f"{where} (no such file)")
                        continue
                    if fragment and resolved.endswith(".md"):
                        if resolved not in cache:
                            cache[resolved] = anchors(resolved)
                        if fragment not in cache[resolved]:
                            problems.append(f"{where} (no heading #{fragment})")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_links: {len(problems)} broken link(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
