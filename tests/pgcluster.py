"""A throwaway PostgreSQL + PostGIS cluster for the test session (never a shared server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

BIN_DIRS = [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
]


def find_bin(name: str) -> str | None:
    for folder in BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def postgis_available() -> bool:
    if find_bin("initdb") is None or find_bin("pg_ctl") is None:
        return False
    return any(
        Path(p).glob("postgis*.control")
        for p in (
            "/usr/share/postgresql/15/extension",
            "/usr/share/postgresql/16/extension",
            "/usr/share/postgresql/17/extension",
        )
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """initdb + pg_ctl in a temporary folder, as the `postgres` user when run as root."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gis-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        self.admin_url: str | None = None  # the superuser, for tests of roles

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run(
            find_bin("initdb") or "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.start_server()
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            # The service's role: no superuser, does not own the database. It may create
            # schemas only because every test store lives in a schema of its own.
            conn.execute("CREATE ROLE gis LOGIN PASSWORD 'gis' NOSUPERUSER NOCREATEDB")
            conn.execute("CREATE DATABASE gis")
            conn.execute("GRANT CREATE ON DATABASE gis TO gis")
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/gis"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        return f"postgresql://gis:gis@127.0.0.1:{self.port}/gis"

    def start_server(self) -> None:
        """Start PostgreSQL on the cluster made by `start` (again, after `stop_server`)."""
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off -c full_page_writes=off"
        self._run(
            find_bin("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop_server(self) -> None:
        """Stop PostgreSQL as an administrator would (fast: sessions are ended), keeping
        the cluster for `start_server`."""
        self._run(find_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            self._run(
                find_bin("pg_ctl") or "pg_ctl",
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
