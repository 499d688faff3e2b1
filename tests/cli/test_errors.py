"""How a command reports an error: one line on stderr, whatever the message's length, and its exit code."""

import pytest

from snntrain.errors import ConfigError, SnntrainError, fail


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
