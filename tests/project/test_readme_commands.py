"""Every command in README.md, run as a new user pastes it: in order, in one shell, on the demo.

The demo is loaded by data/load_demo.sh (what `make demo` runs) into a fresh store, a real
server serves it, and each ```sh block's commands run in one bash session. Only the address
(127.0.0.1:8000 -> the test server) and, on PostGIS, the database are substituted; the
store is otherwise the README's own default, ./var/store under the folder the commands run
in (which links .venv and data/ as the repository's folder has them). Every command must
exit 0 and every curl must get an HTTP status below 400, unless the README's comment on the
line says the error (`# 404 ...`). Not run: `make demo` and `make test` (the one serves
until stopped, the other runs this suite).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely

from gis_service.settings import Settings

from ..conftest import DATA, ROOT, STORES, LiveServer, free_port

README = ROOT / "README.md"
DEMO_ADDRESS = "127.0.0.1:8000"
README_POSTGIS_URL = "postgresql://gis:secret@127.0.0.1:5432/gis"
MARK = "@@@ "

# Installed as a shell function before the README's commands: each curl reports its status,
# and a status of 400 or more fails the command unless the README said that status.
CURL_CHECK = r"""
curl() {
  local err code
  err=$(mktemp)
  if ! command curl -sS -w '%{stderr}%{http_code}\n' "$@" 2>"$err"; then
    cat "$err" >&2; rm -f "$err"; return 1
  fi
  code=$(tail -n 1 "$err"); sed '$d' "$err" >&2; rm -f "$err"
  echo "$CMD_INDEX $code" >>"$STATUS_LOG"
  if [ -n "$EXPECT_STATUS" ]; then
    [ "$code" = "$EXPECT_STATUS" ] || { echo "HTTP $code, expected $EXPECT_STATUS" >&2; return 1; }
  elif [ "$code" -ge 400 ]; then
    echo "HTTP $code" >&2; return 1
  fi
}
"""


@dataclass
class Command:
    index: int
    text: str  # as in the README, continuation lines included

    @property
    def expected_status(self) -> str | None:
        """An error the README shows: a trailing comment that starts with a status >= 400."""
        match = re.search(r"(?:^|\s)#\s*([45]\d\d)\b", self.text.splitlines()[-1])
        return match.group(1) if match else None

    @property
    def is_serve(self) -> bool:
        return self.text.startswith(".venv/bin/gis-service serve")


def readme_commands() -> list[Command]:
    """The logical commands of every ```sh block, in order (comment-only lines left out)."""
    texts: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.S | re.M):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            if not line.endswith("\\"):
                texts.append(pending.rstrip("\n"))
                pending = ""
        assert not pending, f"a block ends inside a command: {pending!r}"
    return [Command(i, text) for i, text in enumerate(texts)]


def substitute(text: str, port: int, postgis_url: str | None) -> str:
    text = text.replace(DEMO_ADDRESS, f"127.0.0.1:{port}")
    return text.replace(README_POSTGIS_URL, postgis_url) if postgis_url else text


def script(commands: list[Command], port: int, postgis_url: str | None) -> str:
    lines = ["set -eo pipefail", CURL_CHECK]
    for command in commands:
        lines += [
            f"printf '\\n{MARK}%d\\n' {command.index}",
            f"printf '\\n{MARK}%d\\n' {command.index} >&2",
            f"CMD_INDEX={command.index}; EXPECT_STATUS={command.expected_status or ''}",
            substitute(command.text, port, postgis_url),
        ]
    return "\n".join(lines) + "\n"


def by_command(output: str) -> dict[int, str]:
    parts = re.split(rf"\n{MARK}(\d+)\n", "\n" + output)
    return {int(index): text for index, text in zip(parts[1::2], parts[2::2], strict=True)}


def work_folder(tmp_path: Path) -> Path:
    """The repository's folder as the README's commands see it: .venv, data/, var/store."""
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix))
    (work / "data").symlink_to(DATA)
    return work


def shell_env(store_env: dict[str, str], status_log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    return {**env, **store_env, "STATUS_LOG": str(status_log)}


def load_demo(work: Path, store: str, env: dict[str, str]) -> None:
    """As `make demo` does (data/load_demo.sh), so both use one definition of the demo."""
    done = subprocess.run(
        ["bash", str(DATA / "load_demo.sh"), store],
        cwd=work,
        env={**env, "GIS_SERVICE": str(Path(sys.prefix) / "bin" / "gis-service")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def ids(output: str | bytes) -> list[str]:
    return [c["id"] for c in json.loads(output)["collections"]]


def features(output: str) -> list[dict]:
    return json.loads(output)["features"]


def first_column(output: str) -> set[str]:
    return {line.split("\t")[0] for line in output.splitlines() if line}


def _within_box(output: str) -> None:
    page = json.loads(output)
    box = shapely.box(55.38, 25.30, 55.42, 25.34)
    source = json.loads((DATA / "facilities.geojson").read_text())["features"]
    inside = [f for f in source if box.contains(shapely.geometry.shape(f["geometry"]))]
    assert page["numberMatched"] == len(inside) > 100
    assert all(box.contains(shapely.geometry.shape(f["geometry"])) for f in page["features"])


def _hospitals(output: str) -> None:
    got = features(output)
    assert len(got) == 5 and {f["properties"]["category"] for f in got} == {"hospital"}


def _district_7(output: str) -> None:
    assert json.loads(output)["id"] == 7


def _accenti(output: str) -> None:
    assert [f["properties"]["name_ar"] for f in features(output)] == ["مدرسة المستقبل"]


def _school_or_clinic(output: str) -> None:
    assert json.loads(output)["numberMatched"] > 0


def _gdal_info(output: str) -> None:
    assert "'features': 5000" in output and "'layer_name': 'facilities'" in output


def _signal_window(output: str) -> None:
    """The README's subset of the demo raster: 100 x 150 cells of 0.001 degree, EPSG:4326."""
    assert output.startswith("EPSG:4326 (100, 150) BoundingBox(left=55.4")


def _finds(*expected: str) -> Callable[[str], None]:
    def check(output: str) -> None:
        assert ids(output) == list(expected)

    return check


def _imported(output: str) -> None:
    assert {"schools", "parks", "old-town", "facilities"} <= first_column(output)


def _demo_entities(output: str) -> None:
    assert {"municipality", "sha", "tdra"} <= first_column(output)


def _shared(output: str) -> None:
    assert len(features(output)) == 2


def _versions(output: str) -> None:
    assert [v["version"] for v in json.loads(output)["versions"]] == [1, 2, 3, 4, 5, 6]


def _changes(output: str) -> None:
    assert json.loads(output)


# Answers the README promises, by a piece of the command that asks (each names one command).
CHECKS: dict[str, Callable[[str], None]] = {
    "category=hospital&limit=5": _hospitals,
    "districts/items/7": _district_7,
    "layer='facilities'))": _gdal_info,
    "capacity > 500": _school_or_clinic,
    "S_WITHIN": _within_box,
    "ACCENTI(name_ar)": _accenti,
    "'q=مدارس'": _finds("facilities"),
    "'q=mobile coverage'": _finds("coverage"),
    "rasterio.open('signal.tif')": _signal_window,
    "keywords=health&owner=sha": _finds("facilities"),
    "gis-service collections": _imported,
    "$G entities list": _demo_entities,
    "$POLICE_KEY\" 'http": _shared,
    "clinics/versions ": _versions,
    "changes?since=3": _changes,
}


def run_readme(
    tmp_path: Path, commands: list[Command], port: int, env: dict[str, str], pg: str | None
) -> tuple[dict[int, str], dict[int, str]]:
    """Runs the commands in one bash session; fails naming the first command that failed."""
    work = tmp_path / "work"
    done = subprocess.run(
        ["bash", "-c", script(commands, port, pg)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out, err = by_command(done.stdout), by_command(done.stderr)
    if done.returncode != 0:
        last = max(out, default=-1)
        text = next((c.text for c in commands if c.index == last), "(before the first)")
        pytest.fail(
            f"README command failed (exit {done.returncode}):\n{text}\n"
            f"stdout: {out.get(last, done.stdout)[-2000:]}\n"
            f"stderr: {err.get(last, done.stderr)[-2000:]}"
        )
    return out, err


def check_statuses(commands: list[Command], status_log: Path) -> None:
    seen: dict[int, list[str]] = {}
    for line in status_log.read_text().splitlines():
        index, code = line.split()
        seen.setdefault(int(index), []).append(code)
    for command in commands:
        if command.text.startswith("curl") or "$(curl" in command.text:
            assert command.index in seen, f"no HTTP answer recorded for: {command.text}"
        if command.expected_status:
            assert seen.get(command.index) == [command.expected_status], command.text


def check_answers(commands: list[Command], out: dict[int, str]) -> None:
    for needle, check in CHECKS.items():
        matching = [c for c in commands if needle in c.text]
        assert len(matching) == 1, f"{needle!r} names {len(matching)} README commands"
        check(out[matching[0].index])


def check_demo_metadata(base: str) -> None:
    """What data/load_demo.sh gives each collection: what dataset search and pages show."""
    owners = {
        "facilities": "sha",
        "districts": "municipality",
        "coverage": "tdra",
        "signal_strength": "tdra",  # the raster
    }
    for cid, owner in owners.items():
        with urllib.request.urlopen(f"{base}/collections/{cid}", timeout=10) as answer:
            info = json.loads(answer.read())
        assert (info["owner"], info["visibility"], info["license"]) == (
            owner,
            "public",
            "CC-BY-4.0",
        )
        assert re.search("[a-z]", info["title"]) and re.search("[\u0600-\u06ff]", info["title_ar"])
        assert re.search("[a-z]", info["description"])
        assert re.search("[\u0600-\u06ff]", info["description"])
        assert any(re.search("[\u0600-\u06ff]", k) for k in info["keywords"])
        assert any(re.search("^[a-z]", k) for k in info["keywords"])
        assert "synthetic" in info["attribution"].lower()


def serve_like_the_readme(work: Path, command: Command, env: dict[str, str]) -> None:
    """The README's `serve` runs until stopped: start it on a free port, read, stop it."""
    port = free_port()
    argv = [*shlex.split(command.text, comments=True), "--port", str(port)]
    process = subprocess.Popen(argv, cwd=work, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/collections"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert {"facilities", "districts", "coverage"} <= set(ids(answer.read()))
                    return
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "serve failed"
                time.sleep(0.3)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.parametrize("kind", STORES)
def test_every_readme_command_runs_on_the_demo(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    commands = [c for c in readme_commands() if not c.text.startswith("make ")]
    postgis_at = next(i for i, c in enumerate(commands) if README_POSTGIS_URL in c.text)
    assert commands[-1].is_serve, "the PostGIS block's `serve` is expected to come last"
    work = work_folder(tmp_path)
    status_log = tmp_path / "statuses"
    status_log.touch()
    if kind == "geopackage":
        # The README's own default store, ./var/store; the PostGIS block needs a database and
        # runs on the other parameter.
        store, store_env, pg = str(work / "var" / "store"), {}, None
        settings = Settings(store=store)
        commands = commands[:postgis_at]
    else:
        pg = request.getfixturevalue("postgis_url")
        schema = f"readme_{uuid.uuid4().hex[:10]}"
        # the COGs beside PostGIS: where the README's commands (run in `work`) keep them
        rasters = str(work / "var" / "rasters")
        store_env = {"GIS_STORE": pg, "GIS_POSTGIS_SCHEMA": schema, "GIS_RASTER_DIR": rasters}
        store = pg
        settings = Settings(store=pg, postgis_schema=schema, raster_dir=rasters)
    env = shell_env(store_env, status_log)
    load_demo(work, store, env)
    runnable = [c for c in commands if not c.is_serve]
    with LiveServer(settings) as server:
        check_demo_metadata(server.url)
        out, _err = run_readme(tmp_path, runnable, server.port, env, pg)
    check_statuses(runnable, status_log)
    check_answers(runnable, out)
    if kind == "postgis":
        serve_like_the_readme(work, commands[-1], env)
