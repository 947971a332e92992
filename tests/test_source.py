"""Cheap static checks on the module crate."""
import re
import subprocess

from harness import ROOT


def test_every_unsafe_block_has_a_safety_comment():
    r = subprocess.run([str(ROOT / "scripts/check-unsafe.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_no_panicking_calls_in_the_module_glue():
    # A panic across extern "C" aborts an nginx worker.
    hits = []
    for path in (ROOT / "src").rglob("*.rs"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.unwrap\(\)|\.expect\(|panic!\(|unreachable!\(|todo!\(", line.split("//")[0]):
                hits.append(f"{path.name}:{i}: {line.strip()}")
    assert not hits, hits
