"""A small process supervisor for `make run`: restarts a program that exits, stops all on Ctrl-C.

Usage::

    python tools/supervise.py --program NAME LOGFILE "COMMAND ..." [--program ...]

Each program runs in its own session (process group) with stdout and stderr appended to LOGFILE.
When a program exits while the supervisor is not stopping, the supervisor writes one line saying so
to that program's log (and to its own stderr) and starts it again after a back-off: 1 s, doubling
with each quick exit up to 60 s, back to 1 s once the program has run for a minute. SIGINT, SIGTERM
or SIGHUP (Ctrl-C, `make run`'s `kill 0` on exit, a closed terminal) stops every program with SIGTERM,
then SIGKILL after a grace period, and ends the supervisor. On Linux a program also gets SIGTERM if the
supervisor itself is killed outright, so no worker outlives a `make run`.

Why: a Celery worker can end on a broker restart (issue 12, point 6: an AttributeError inside kombu
in 2 of 40 Redis restarts). Production runs the workers under docker-compose's restart policy or
systemd's Restart=always (docs/workers.md); this is the same guarantee for the demo. It uses only the
standard library, so it runs before anything is installed and never imports Django.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
STABLE_AFTER = 60.0  # seconds a program must run before its back-off starts again from BACKOFF_FIRST
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL when stopping
POLL = 0.2
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _term_with_supervisor() -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Program:
    name: str
    log_path: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None  # when an exited program is due to start again
    restarts: int = 0
    _log: object = field(default=None, repr=False)

    def start(self) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab", buffering=0)
        # Its own session: the terminal's Ctrl-C reaches the supervisor only, which then stops the
        # programs in order, and a signal to the group takes a program's pool children with it.
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_term_with_supervisor if sys.platform.startswith("linux") else None,
        )
        self.started_at = time.monotonic()
        self.restart_at = None

    def note(self, text: str) -> None:
        """One line in the program's log and on the supervisor's stderr."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        line = f"[{stamp}] supervise: {self.name} {text}\n"
        if self._log is not None:
            self._log.write(line.encode())
        sys.stderr.write(line)
        sys.stderr.flush()

    def signal_group(self, signum: int) -> None:
        """Signal the program's process group, which may outlive the program's main process (pool
        children orphaned by a SIGKILL of their parent)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    def __init__(self, programs: list[Program]):
        self.programs = programs
        self.stopping = False

    def request_stop(self, signum, _frame) -> None:
        self.stopping = True

    def check(self, program: Program, now: float) -> None:
        """Restart ``program`` if it has exited and its back-off has passed."""
        if program.restart_at is not None:
            if now >= program.restart_at:
                program.restarts += 1
                program.start()
                program.note(f"started again (restart {program.restarts}, pid {program.proc.pid})")
            return
        returncode = program.proc.poll()
        if returncode is None:
            return
        # Leftover children of a killed main process would keep consuming (or holding) its queue.
        program.signal_group(signal.SIGKILL)
        ran = now - program.started_at
        if ran >= STABLE_AFTER:
            program.backoff = BACKOFF_FIRST
        program.note(f"{describe_exit(returncode)} after {ran:.1f} s; restarting in {program.backoff:g} s")
        program.restart_at = now + program.backoff
        program.backoff = min(program.backoff * 2, BACKOFF_MAX)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)
        for program in self.programs:
            program.start()
            program.note(f"started (pid {program.proc.pid})")
        while not self.stopping:
            now = time.monotonic()
            for program in self.programs:
                self.check(program, now)
            time.sleep(POLL)
        self.stop()
        return 0

    def stop(self) -> None:
        running = [p for p in self.programs if p.proc is not None and p.proc.poll() is None]
        for program in running:
            program.note("stopping (SIGTERM)")
            program.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for program in running:
            try:
                program.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                program.note(f"did not stop within {STOP_GRACE:g} s; SIGKILL")
                program.signal_group(signal.SIGKILL)
                program.proc.wait()
        for program in self.programs:
            program.signal_group(signal.SIGKILL)  # pool children outliving their main process
            program.close()


def parse(argv: list[str]) -> list[Program]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--program", nargs=3, action="append", required=True, metavar=("NAME", "LOGFILE", "COMMAND"),
        help="a program to run and keep running; COMMAND is split like a shell command line",
    )
    args = parser.parse_args(argv)
    return [Program(name=name, log_path=log, argv=shlex.split(command)) for name, log, command in args.program]


def main(argv: list[str] | None = None) -> int:
    return Supervisor(parse(sys.argv[1:] if argv is None else argv)).run()


if __name__ == "__main__":
    sys.exit(main())
