#!/usr/bin/env python3
"""Every `unsafe` block or impl in the module crate carries a `// SAFETY:` comment
on one of the lines just above it (or on the same line). `unsafe fn` and
`unsafe extern "C" fn` declarations are exempt: their callers carry the comment.
Prints offenders and exits non-zero."""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
bad = []
for path in sorted((root / "src").rglob("*.rs")):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        code = line.split("//")[0]
        if not re.search(r"\bunsafe\b", code) or re.search(r"\bunsafe\s+(extern\s+\"C\"\s+)?fn\b", code):
            continue
        window = lines[max(0, i - 3):i + 1]
        if not any("SAFETY" in w for w in window):
            bad.append(f"{path.relative_to(root)}:{i + 1}: {line.strip()}")
print("\n".join(bad) if bad else "every unsafe block has a SAFETY comment")
sys.exit(1 if bad else 0)
