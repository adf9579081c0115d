#!/usr/bin/env python3
"""Turns docs/evosctl.md into evosctl(8), so the man page and the reference are one text.

Understands the subset that doc uses: "# NAME: what" (the title), "## " chapters (.SH), "### "
sections (.SS), paragraphs, "- " lists, fenced code blocks, pipe tables and `code` spans.

  md2man.py --name evosctl --section 8 --source "evos 0.1.0" --manual "System Administration" < docs/evosctl.md
"""
import argparse
import re
import sys

import roffpage


def esc(text):
    text = roffpage.escape(text)
    # `code` as bold, **strong** as bold; the backticks go.
    text = re.sub(r"`([^`]*)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    return re.sub(r"\*\*([^*]+)\*\*", lambda m: "\\fB" + m.group(1) + "\\fR", text)


def cells(row):
    row = row.strip().strip("|")
    # "\|" inside a cell is a literal bar.
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--section", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--manual", required=True)
    ap.add_argument("--input", help="the Markdown file (default: stdin)")
    ap.add_argument("--output", help="the file to write (default: stdout)")
    args = ap.parse_args()
    if args.input:
        with open(args.input, encoding="utf-8") as f:
            lines = f.read().splitlines()
    else:
        lines = sys.stdin.read().splitlines()
    if not lines or not lines[0].startswith("# "):
        sys.exit("md2man: the first line must be the title, '# NAME: what it is'")
    title = lines[0][2:]
    name, _, what = title.partition(":")
    if name.strip() != args.name or not what.strip():
        sys.exit(f"md2man: the title {title!r} must read '# {args.name}: what it is'")

    out = roffpage.header(args.name, args.section, args.source, args.manual, what.strip()) + [".SH DESCRIPTION"]
    w = out.append
    i = 1
    para = []

    def flush():
        if para:
            w(".PP")
            w(esc(" ".join(para)))
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            w(".PP")
            w(".RS 4")
            w(".nf")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                w(roffpage.escape(lines[i]))
                i += 1
            w(".fi")
            w(".RE")
        elif line.startswith("### "):
            flush()
            w(f'.SS "{esc(line[4:])}"')
        elif line.startswith("## "):
            flush()
            w(f'.SH "{esc(line[3:]).upper()}"')
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(cells(lines[i]))
                i += 1
            i -= 1
            # A header row, a separator row, then the body: each body row as a tagged paragraph.
            for row in rows[2:]:
                w(".TP")
                w(esc(row[0]))
                w(" \\(em ".join(esc(c) for c in row[1:]))
        elif line.startswith("- "):
            flush()
            item = [line[2:]]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                item.append(lines[i].strip())
            w(".IP \\(bu 2")
            w(esc(" ".join(item)))
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    roffpage.write(out, "\\fBocf_evos_vm\\fR(7), \\fBocf_evos_ping\\fR(7), \\fBocf_evos_mirror\\fR(7), "
                   "\\fBfence_evos_race\\fR(8), \\fBcrm\\fR(8), \\fBpcs\\fR(8), \\fBvirsh\\fR(1), \\fBdrbdadm\\fR(8)",
                   args.output)


if __name__ == "__main__":
    main()
