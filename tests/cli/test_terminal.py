"""The console in a real terminal: ``snntrain`` under a pseudo-terminal, its byte stream replayed.

Rich draws a live progress bar only on a terminal, so the test gives the run one (``os.openpty``
with a fixed window size, TERM=xterm-256color) and replays what the run wrote as a terminal would
show it: log lines must land above the live bar as whole lines, and each finished epoch bar must
stay on screen once, above that epoch's log line, never drawn again below later lines.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

ROWS, COLUMNS = 50, 200  # wide enough that no line wraps
TOKENS = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\r|\n|[^\x1b\r\n]+")


def run_in_terminal(args: list[str], cwd, timeout: float = 300) -> tuple[int, str]:
    """Run ``args`` with a pseudo-terminal as stdin, stdout and stderr; its exit code and output."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(args, cwd=cwd, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"no exit after {timeout} s"
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every end of the terminal is closed, the run is over
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", errors="replace")


def screen(stream: str) -> list[str]:
    """The lines a terminal holds (scrollback included) once ``stream`` is written to it: text
    overwrites at the cursor; carriage return, newline, cursor up (CSI n A) and erase line (CSI K)
    move and clear; colours and the other codes change nothing a test reads."""
    lines, row, col = [""], 0, 0
    for match in TOKENS.finditer(stream):
        token, (params, command) = match.group(0), match.group(1, 2)
        if token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            lines += [""] * (row + 1 - len(lines))
        elif command == "A":
            row = max(row - int(params or 1), 0)
        elif command == "K":
            lines[row] = "" if params == "2" else lines[row][:col]
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token):]
            col += len(token)
    return [line.rstrip() for line in lines]


@pytest.mark.slow
def test_log_lines_print_above_the_bar_and_finished_bars_stay_once(tmp_path):
    args = [sys.executable, "-m", "snntrain", "hydra.run.dir=run", "trainer.max_epochs=2", "trainer.limit_batches=20",
            "trainer.limit_eval_batches=2", "logger=none", "T=4", "model.hidden=[32]"]
    code, stream = run_in_terminal(args, tmp_path)
    assert code == 0, stream
    lines = screen(stream)
    shown = "\n".join(lines)
    positions = []
    for epoch in (1, 2):
        logged = [i for i, line in enumerate(lines) if f"epoch {epoch}: loss" in line]
        assert len(logged) == 1, f"epoch {epoch}'s log line is on screen {len(logged)} times:\n{shown}"
        assert re.fullmatch(rf"\S*\s*INFO\s+epoch {epoch}: loss .* B/sample", lines[logged[0]]), f"not a line of its own: {lines[logged[0]]!r}"
        finished = [i for i, line in enumerate(lines) if re.match(rf"epoch {epoch}/2 ━+ 20/20 ", line)]
        assert len(finished) == 1, f"epoch {epoch}'s finished bar is on screen {len(finished)} times:\n{shown}"
        positions += [finished[0], logged[0]]
    summary = next(i for i, line in enumerate(lines) if "snntrain summary" in line)
    assert positions + [summary] == sorted(positions + [summary]), f"bars and log lines out of order:\n{shown}"
    assert "epoch 1: loss" in (tmp_path / "run" / "train.log").read_text() and "\x1b" not in (tmp_path / "run" / "train.log").read_text()
