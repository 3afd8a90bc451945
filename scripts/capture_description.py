"""The JSON description that scripts/make-*-capture.py write beside a crafted capture:
a head of facts about it, then one connection a line, for reading and diffing."""
import json, sys


def write(head, connections, path, frames):
    """Writes the description to `path` (standard output when None) and a line of counts
    to standard error."""
    text = json.dumps(head)[:-1] + ', "connections": [\n' \
        + ",\n".join(" " + json.dumps(connection) for connection in connections) + "\n]}\n"
    if path:
        with open(path, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print(f"{head['capture']}: {len(connections)} connections, {frames} packets", file=sys.stderr)
