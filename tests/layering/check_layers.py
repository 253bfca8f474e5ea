#!/usr/bin/env python3
"""Checks that layers point one way: generator <- characterization <- testbench
<- explore <- cli. A source file may include a project header ("vosa/...")
only from its own layer or a lower one.

usage: check_layers.py [REPO_ROOT]     (exit 1 and one line per violation)
"""
import os
import re
import sys

LAYERS = ["generator", "characterization", "testbench", "explore", "cli"]
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc")
INCLUDE = re.compile(r'^\s*#\s*include\s+"(vosa/[^"]+)"', re.M)


def layer_of(path):
    top = path.split(os.sep, 1)[0]
    return LAYERS.index(top) if top in LAYERS else None


def project_headers(root):
    """Maps "vosa/x.hpp" to the layer whose include/ folder holds it."""
    headers = {}
    for top in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            rel_dir = os.path.relpath(dirpath, root)
            marker = os.sep + "include" + os.sep
            if marker + "vosa" not in rel_dir + os.sep:
                continue
            include_root = rel_dir[: rel_dir.index(marker) + len(marker)]
            for name in files:
                rel = os.path.relpath(os.path.join(rel_dir, name), include_root)
                headers.setdefault(rel.replace(os.sep, "/"), set()).add(LAYERS.index(top))
    return headers


def violations(root):
    headers = project_headers(root)
    found = []
    for top in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                own = layer_of(rel)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for inc in INCLUDE.findall(text):
                    layers = headers.get(inc)
                    # A header of the same name in the file's own layer wins.
                    if layers and own not in layers and min(layers) > own:
                        found.append(f"{rel}: includes {inc} from {LAYERS[min(layers)]}/, "
                                     f"a layer above {LAYERS[own]}/")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    root = os.path.abspath(root)
    if not os.path.isdir(os.path.join(root, "generator")):
        print(f"check_layers: error: {root} has no generator/ folder", file=sys.stderr)
        return 2
    found = violations(root)
    for line in found:
        print(line)
    if found:
        print(f"check_layers: {len(found)} include(s) point up the layers "
              f"({' <- '.join(LAYERS)})", file=sys.stderr)
        return 1
    print("check_layers: layers point one way (" + " <- ".join(LAYERS) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
