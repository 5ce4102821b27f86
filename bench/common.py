"""What every benchmark shares: the machine it ran on, percentiles, peak memory, and one JSON result format.

A result is one JSON object; `bench/run_all.py` (`make bench`) renders every result into
`docs/performance.md`, so a script only has to fill this shape:

    {
      "bench": "levers",                      # short name, also the JSON file's stem
      "command": "python bench/...",          # what produced it, exactly as run
      "date": "2026-12-02T16:00:00+00:00",
      "machine": {...},                       # machine_info()
      "elapsed_s": 123.4,
      "targets": [                            # the issue's targets this bench measures
        {"id": "ingest_overhead", "label": "ingest overhead against the raw model",
         "target": "≤ 10%", "value": "7%", "met": true, "note": "why unmet / next step"}
      ],
      "tables": [{"title": "...", "columns": ["...", "..."], "rows": [["...", 1.0]]}],
      "notes": ["free text, one finding per line"]
    }
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu in ("", platform.machine()):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags.update(
                    f
                    for f in line.split(":", 1)[1].split()
                    if f.startswith(("amx", "avx512_bf16", "avx512_vnni"))
                )
    except OSError:
        pass
    mem_gib = None
    with contextlib.suppress(ValueError, OSError):
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem_gib,
        "flags": sorted(flags),
        "python": platform.python_version(),
        "load_1min_at_start": load,
    }


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank; 0.0 for no data."""
    if not xs:
        return 0.0
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))
    return s[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds of a list of durations in seconds."""
    ms = [x * 1000 for x in seconds]
    return {
        "n": len(ms),
        "p50": round(pct(ms, 50), 2),
        "p95": round(pct(ms, 95), 2),
        "p99": round(pct(ms, 99), 2),
        "mean": round(statistics.fmean(ms), 2) if ms else 0.0,
    }


def _status_mib(key: str) -> float | None:
    """A memory line of /proc/self/status (reported in KiB) in MiB; None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far. ``VmHWM``, not ``ru_maxrss``: a child process on Linux
    inherits its parent's ``ru_maxrss`` (measured: a child of a 500 MiB parent reported 513 MiB)."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mib() -> float:
    return _status_mib("VmRSS") or 0.0


@dataclass
class Target:
    id: str
    label: str
    target: str
    value: str
    met: bool | None  # None: not measured in this run
    note: str = ""


@dataclass
class Result:
    bench: str
    command: str = field(default_factory=lambda: "python " + shlex.join(sys.argv))
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, Any] = field(default_factory=machine_info)
    elapsed_s: float = 0.0
    targets: list[Target] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        self.tables.append({"title": title, "columns": columns, "rows": rows})

    def target(self, *args: Any, **kwargs: Any) -> None:
        self.targets.append(Target(*args, **kwargs))

    def write(self, path: Path | None) -> dict[str, Any]:
        self.elapsed_s = round(time.perf_counter() - self._t0, 1)
        out = asdict(self)
        out.pop("_t0", None)
        text = json.dumps(out, indent=1, ensure_ascii=False)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        print(text)
        return out
