"""What both man-page generators share: roff escaping, the page header and writing the page."""
import sys


def escape(text):
    """A line of body text for roff: backslashes and hyphens escaped, a leading '.' or "'" guarded."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def header(name, section, source, manual, what):
    """.TH, no hyphenation or justification, and the NAME line apropos(1) reads."""
    return [f'.TH "{name.upper()}" "{section}" "" "{source}" "{manual}"', ".nh", ".ad l",
            ".SH NAME", f"{escape(name)} \\- {escape(what)}"]


def write(lines, see_also, output):
    """Ends the page with SEE ALSO and writes it to `output` (a path) or stdout."""
    text = "\n".join(lines + ['.SH "SEE ALSO"', see_also]) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
