#!/usr/bin/env python3
"""Turns an agent's own meta-data into its man page, so the page cannot drift from the agent.

Reads the XML from the agent itself (--run AGENT ARG...) or on stdin: OCF 1.1 resource-agent meta-data (`AGENT meta-data`), rendered like
resource-agents' ocf_heartbeat_*(7) pages, or fence-agents' metadata (`fence_x -o metadata`,
parameters with <getopt>), rendered like fence-agents' fence_*(8) pages.

  ra2man.py --name ocf_evos_vm --section 7 --source "evos 0.1.0" --manual "OCF resource agents" \
            --output ocf_evos_vm.7 --run agents/vm meta-data
"""
import argparse
import subprocess
import sys
import xml.etree.ElementTree as ET

import roffpage


def roff(text):
    """One roff body line from meta-data text (its white space folded)."""
    return roffpage.escape(" ".join((text or "").split()))


def desc(elem, tag):
    node = elem.find(tag)
    if node is not None and (node.text or "").strip():
        return node.text
    return elem.get(tag, "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="the page's name, e.g. ocf_evos_vm")
    ap.add_argument("--section", required=True, choices=["7", "8"])
    ap.add_argument("--source", required=True, help='e.g. "evos 0.1.0"')
    ap.add_argument("--manual", required=True)
    ap.add_argument("--invocation", help="how the agent is named in the synopsis (default: its name)")
    ap.add_argument("--output", help="the file to write (default: stdout)")
    ap.add_argument("--run", nargs=argparse.REMAINDER, help="run this argv (no shell) and read its stdout")
    args = ap.parse_args()

    if args.run:
        try:
            done = subprocess.run(args.run, stdout=subprocess.PIPE, check=True, timeout=30, text=True)
        except (OSError, subprocess.SubprocessError) as e:
            sys.exit(f"ra2man: {' '.join(args.run)}: {e}")
        data = done.stdout
    else:
        data = sys.stdin.read()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        sys.exit(f"ra2man: the meta-data is not well-formed XML: {e}")
    if root.tag != "resource-agent":
        sys.exit(f"ra2man: expected <resource-agent>, found <{root.tag}>")
    agent = root.get("name")
    if not agent:
        sys.exit("ra2man: <resource-agent> has no name")
    fence = root.find("parameters/parameter/getopt") is not None
    short = desc(root, "shortdesc")
    if not short.strip():
        sys.exit(f"ra2man: {agent} has no shortdesc")
    invocation = args.invocation or agent
    actions = []
    for a in root.findall("actions/action"):
        if a.get("name") not in actions:
            actions.append(a.get("name"))

    out = roffpage.header(args.name, args.section, args.source, args.manual, " ".join(short.split()))
    w = out.append
    w(".SH SYNOPSIS")
    if fence:
        w(f"\\fB{roff(invocation)}\\fR [\\fIOPTIONS\\fR]")
        w(".PP")
        w(f"\\fB{roff(invocation)}\\fR reads \\fINAME\\fR=\\fIVALUE\\fR lines on standard input when no option is given (as the fencer calls it).")
    else:
        w(f"\\fB{roff(invocation)}\\fR [{' | '.join(roff(a) for a in actions)}]")
    w(".SH DESCRIPTION")
    for para in (desc(root, "longdesc") or short).split("\n\n"):
        w(".PP")
        w(roff(para))
    w(".SH \"SUPPORTED PARAMETERS\"" if not fence else ".SH OPTIONS")
    for p in root.findall("parameters/parameter"):
        name = p.get("name")
        if p.get("deprecated") == "1":
            continue
        content = p.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        default = content.get("default") if content is not None else None
        w(".PP")
        if fence:
            getopt = p.find("getopt")
            w(f"\\fB{roff(getopt.get('mixed') if getopt is not None else name)}\\fR")
        else:
            w(f"\\fB{roff(name)}\\fR")
        w(".RS 4")
        w(roff(desc(p, "longdesc") or desc(p, "shortdesc")))
        w(".sp")
        traits = []
        if p.get("unique") == "1":
            traits.append("unique")
        traits.append("required" if p.get("required") == "1" else "optional")
        if p.get("reloadable") == "1":
            traits.append("reloadable")
        traits.append(kind)
        traits.append(f"default {default}" if default not in (None, "") else "no default")
        if fence:
            traits.append(f"stdin name {name}")
        w("(" + roff(", ".join(traits)) + ")")
        w(".RE")
    w(".SH \"SUPPORTED ACTIONS\"")
    for a in root.findall("actions/action"):
        extra = [f"{k}={a.get(k)}" for k in ("timeout", "interval", "depth", "role") if a.get(k)]
        w(".TP")
        w(f"\\fB{roff(a.get('name'))}\\fR")
        w(roff(", ".join(extra)) if extra else "(no default timeout)")
    roffpage.write(out, "\\fBevosctl\\fR(8), \\fBcrm_resource\\fR(8), \\fBpcs\\fR(8)", args.output)


if __name__ == "__main__":
    main()
