"""How a command reports an error: one line on stderr, whatever the message's length, and its exit code."""

import subprocess
import sys

import pytest

from snntrain.core.errors import ConfigError, SnntrainError, fail


class Faulty(SnntrainError):
    exit_code = 7


def test_a_long_message_is_one_line_however_narrow_the_output(capsys):
    message = "dataset.foo=1 is not allowed: " + "a reason that goes on and on " * 10 + "\n  and a second line."
    with pytest.raises(SystemExit) as info:
        fail(ConfigError(message))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["snntrain error: " + " ".join(line.strip() for line in message.splitlines())]


def test_the_exit_code_is_the_errors_and_the_program_is_named(capsys):
    with pytest.raises(SystemExit) as info:
        fail(Faulty("broken [bold]markup[/] is shown as written"), "snntrain-data")
    assert info.value.code == 7
    assert capsys.readouterr().err == "snntrain-data error: broken [bold]markup[/] is shown as written\n"


def test_a_signal_while_the_command_exits_on_an_error_adds_nothing_to_its_line(tmp_path):
    # torchrun sends SIGTERM to the survivors once a rank dies, often while they are already exiting
    # on that error: here the signal arrives in the interpreter's shutdown, after the line is printed.
    script = tmp_path / "ending.py"
    script.write_text(
        "import atexit, os, signal, time\n"
        "from snntrain.engine.signals import stopping_on_signals\n"
        "from snntrain.core.errors import SnntrainError, fail\n"
        "def terminated_while_exiting():\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(0.2)\n"
        "atexit.register(terminated_while_exiting)\n"
        "with stopping_on_signals('snntrain'):\n"
        "    fail(SnntrainError('rank 0: summing counts over ranks failed'))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == SnntrainError("").exit_code
    assert done.stderr.splitlines() == ["snntrain error: rank 0: summing counts over ranks failed"]
