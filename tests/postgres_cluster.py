"""A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary folder, started with
`pg_ctl` on a free local port, stopped and removed at the end.

    with throwaway_cluster(find_bin_dir()) as url:   # postgresql://postgres@127.0.0.1:PORT/postgres
        ...

As root, `initdb` and `pg_ctl` run as the `postgres` user (`initdb` refuses root); the folder is
made with `tempfile.mkdtemp` (pytest's tmp_path is under a 0700 folder that user cannot enter)
and handed to that user.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

# where Debian's `postgresql` package puts the server binaries (not on PATH)
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
SUPERUSER = "postgres"  # the cluster's superuser (trust authentication: no password)
TIMEOUT = 60  # seconds for initdb, start, stop


class ClusterError(RuntimeError):
    """The cluster could not be set up or started; the message holds the tool's output."""


def find_bin_dir() -> Path | None:
    """The folder with `initdb` and `pg_ctl`: that of `initdb` on PATH (links followed), else
    the newest of Debian's /usr/lib/postgresql/*/bin; None when there is none."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = [Path(p).parent for p in glob.glob(f"{DEBIAN_BIN_DIRS}/initdb")]
    candidates.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return candidates[-1] if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a server tool as a user it accepts, and that user (None:
    the current one). As root: `runuser -u postgres --`."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError(
            "running as root and there is no 'postgres' user to run initdb as"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("running as root and `runuser` is missing: cannot run initdb")
    return [runuser, "-u", user.pw_name, "--"], user


def _run(command: list[str], cwd: Path, what: str) -> None:
    """Runs a server tool; ClusterError with its output if it fails."""
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise ClusterError(f"{what}: no answer in {TIMEOUT} s: {' '.join(command)}") from err
    if done.returncode != 0:
        raise ClusterError(
            f"{what} failed (exit {done.returncode}): {' '.join(command)}\n"
            f"{done.stdout}{done.stderr}"
        )


@contextlib.contextmanager
def throwaway_cluster(bin_dir: Path):
    """Starts a cluster in a new temporary folder and yields its URL; stops it and removes the
    folder on leaving, whatever happened. ClusterError (with the server log) if it won't start."""
    prefix, owner = _as_owner()
    base = Path(tempfile.mkdtemp(prefix="lstm-app-pg-"))
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        sockets.mkdir()
        if owner is not None:
            for path in (base, sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER]
        _run([*prefix, *initdb, "-E", "UTF8", "--no-sync"], base, "initdb")
        port = free_port()
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"\n# throwaway test cluster\nport = {port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{sockets}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        try:
            started = True  # pg_ctl may have started the server even when it reports failure
            _run([*pg_ctl, "-l", str(log), "-w", "-t", str(TIMEOUT), "start"], base, "pg_ctl start")
        except ClusterError as err:
            server_log = log.read_text(errors="replace") if log.exists() else "(no log)"
            raise ClusterError(f"{err}\nthe server's log:\n{server_log}") from None
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        try:
            if started and (data / "postmaster.pid").exists():
                try:
                    _run([*pg_ctl, "-m", "fast", "-w", "stop"], base, "pg_ctl stop")
                except ClusterError:
                    _run([*pg_ctl, "-m", "immediate", "-w", "stop"], base, "pg_ctl stop")
        finally:
            shutil.rmtree(base, ignore_errors=True)
