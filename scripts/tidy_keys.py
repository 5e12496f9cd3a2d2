#!/usr/bin/env python3
"""Prints "<key> <file>" for each source file given on stdin: the key changes whenever anything
clang-tidy's verdict on that file depends on changes (its text, the project headers it reaches,
its compile command, the checks, the tool and the pinned third-party versions).

scripts/tidy.sh uses the keys to skip files that passed before with the same inputs."""
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.M)


def project_includes(path: Path, seen: set[Path]) -> None:
    """Adds the project headers `path` includes, transitively, to `seen`."""
    for name in INCLUDE.findall(path.read_bytes()):
        name = name.decode()
        for base in (path.parent, ROOT / "src"):
            candidate = (base / name).resolve()
            if candidate.is_file():
                if candidate not in seen:
                    seen.add(candidate)
                    project_includes(candidate, seen)
                break


def main() -> None:
    build = Path(sys.argv[1]).resolve()
    commands = {str(Path(e["file"]).resolve()): e.get("command") or " ".join(e["arguments"])
                for e in json.loads((build / "compile_commands.json").read_text())}
    tool = subprocess.run([sys.argv[2], "--version"], capture_output=True, check=True).stdout
    common = hashlib.sha256(tool)
    for shared in (ROOT / ".clang-tidy", ROOT / "scripts" / "deps.lock"):
        common.update(shared.read_bytes())
    for line in sys.stdin:
        file = (ROOT / line.strip()).resolve()
        key = common.copy()
        # Paths differ between clones; what is compiled does not.
        key.update(commands.get(str(file), "").replace(str(ROOT), ".").replace(str(build), "BUILD").encode())
        headers: set[Path] = set()
        project_includes(file, headers)
        for path in [file, *sorted(headers)]:
            key.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
        print(key.hexdigest(), line.strip())


if __name__ == "__main__":
    main()
