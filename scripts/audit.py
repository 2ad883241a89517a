"""Audit the installed dependencies for known vulnerabilities with pip-audit (`make audit`).

pip-audit asks PyPI's JSON API which vulnerabilities each installed version has (the
`vulnerabilities` field, from the Python Packaging Advisory Database). That service is not
reachable everywhere (no network, or a mirror without that field), so the audit first asks it
about one package, and when it cannot answer says "service unreachable" and stops: nothing
was audited, which is not the same as "no vulnerability found". Not part of CI for that reason.

Exit status: 0 when no installed package has a known vulnerability, or when the service is
unreachable (said plainly); 1 when vulnerabilities are found (each listed with its fix);
2 when pip-audit itself failed another way.

    .venv/bin/python scripts/audit.py
"""

import json

# Runs pip-audit, a fixed command of this project's own environment.
import subprocess  # nosec B404
import sys
import tempfile
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

SERVICE = "https://pypi.org/pypi"
PROBE_PACKAGE = "Django"
TIMEOUT_SECONDS = 15


def service_problem() -> str | None:
    """Return why PyPI cannot report vulnerabilities from here, or None when it can."""
    version = metadata.version(PROBE_PACKAGE)
    url = f"{SERVICE}/{PROBE_PACKAGE}/{version}/json"
    try:
        # A fixed https URL of the vulnerability service.
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # nosec B310
            body = json.load(answer)
    except urllib.error.HTTPError as error:
        return f"{url} answered HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{url}: {getattr(error, 'reason', error)}"
    if "vulnerabilities" not in body:
        return f"{url} has no vulnerability data"
    return None


def summarize(report: dict) -> tuple[int, list[str]]:
    """Return the exit status and the lines to print for pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    if dependencies and len(skipped) == len(dependencies):
        return 0, [
            "make audit: vulnerability service unreachable: no package could be audited "
            f"({skipped[0]['skip_reason']})."
        ]
    # A package that is not on PyPI (a local one) cannot be audited; it is named, not hidden.
    lines = [f"  skipped {dep['name']}: {dep['skip_reason']}" for dep in skipped]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(dependencies) - len(skipped)
    count = sum(len(dep["vulns"]) for dep in vulnerable)
    if vulnerable:
        lines.insert(
            0,
            f"make audit: {count} known vulnerabilit{'y' if count == 1 else 'ies'} in "
            f"{len(vulnerable)} of {audited} packages:",
        )
        return 1, lines
    return 0, [f"make audit: no known vulnerability in {audited} packages.", *lines]


def main() -> int:
    problem = service_problem()
    if problem:
        print(f"make audit: vulnerability service unreachable ({problem}); nothing was audited.")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--format",
            "json",
            "--output",
            str(output),
            "--progress-spinner",
            "off",
            "--timeout",
            str(TIMEOUT_SECONDS),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # nosec B603
        if not output.exists():
            message = (result.stderr or result.stdout).strip().splitlines()
            if any("connection" in line.lower() for line in message):
                print("make audit: vulnerability service unreachable during the audit.")
                return 0
            print("make audit: pip-audit failed:", *message[-5:], sep="\n  ")
            return 2
        status, lines = summarize(json.loads(output.read_text()))
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
