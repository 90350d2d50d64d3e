"""What every self-check shares: its verdict, how Jupyter shows it, and running a student's code."""

from __future__ import annotations

from IPython.core.formatters import DisplayFormatter

from leafdl.course.exercises.common import CheckResult, call_student, checked, not_answered, report, wrong


def test_a_verdict_is_printed_and_returned(capsys):
    right = report(True, "because.", "unused")
    assert right.passed and bool(right) and right.status == "correct"
    assert capsys.readouterr().out == "Correct! because.\n"
    not_yet = wrong("look again.")
    assert not not_yet and not_yet.status == "not yet" and not_yet.message == "Not yet. Hint: look again."
    assert not_answered(3, "a number") is None
    assert not_answered(None, "a number").status == "not done"


def test_jupyter_displays_nothing_for_a_result():
    """No bare True/False under the printed verdict: the display formatter finds nothing to show."""
    data, metadata = DisplayFormatter().format(CheckResult("correct", "Correct!"))
    assert data == {} and metadata == {}


def test_student_code_is_run_without_a_traceback(capsys):
    @checked
    def check_double(double) -> CheckResult:
        return report(call_student(double, 2, advice={ZeroDivisionError: "Do not divide."}) == 4, "yes.", "no.")

    assert check_double(lambda x: 2 * x).passed
    assert check_double(lambda x: x + 1).status == "not yet"

    def stub(x):
        raise NotImplementedError
    assert check_double(stub).status == "not done"
    assert "write the body of stub" in capsys.readouterr().out

    def divides(x):
        return x / 0
    result = check_double(divides)
    assert result.status == "not yet" and "divides raised ZeroDivisionError" in result.message
    assert "(line " in result.message and "of your cell). Do not divide." in result.message
    assert "pass your function itself" in check_double(None).message


def test_advice_by_message_and_the_line_of_the_students_code():
    @checked
    def check_halve(halve) -> CheckResult:
        return report(call_student(halve, 4, advice={"unsupported operand": "Numbers, not strings."}) == 2, "yes.", "no.")

    def halves_a_string(x):
        return "4" / 2
    result = check_halve(halves_a_string)
    line = halves_a_string.__code__.co_firstlineno + 1
    assert f"halves_a_string raised TypeError: unsupported operand" in result.message
    assert result.message.endswith(f"(line {line} of your cell). Numbers, not strings.")


def test_no_warning_leaks_and_a_known_warning_becomes_its_hint():
    import warnings

    @checked
    def check_quiet(function) -> CheckResult:
        call_student(function, warning_advice={"deprecated": "Use the new name."})
        return report(True, "quiet.", "")

    def warns_unknown():
        warnings.warn("something odd", UserWarning)

    def warns_known():
        warnings.warn("old_name is deprecated", FutureWarning)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_quiet(warns_unknown).passed
        result = check_quiet(warns_known)
    assert not result.passed and result.message == "Not yet. Hint: Use the new name."


def test_not_a_number_names_a_tensor():
    import numpy as np
    import torch

    from leafdl.course.exercises.common import not_a_number
    assert not_a_number(0.5, "x") is None and not_a_number(np.float32(0.5), "x") is None
    message = not_a_number(torch.tensor(0.5, requires_grad=True) * 2, "your mean loss").message
    assert "your mean loss is a tensor (tensor(1., grad_fn=<MulBackward0>))" in message and ".item()" in message
    assert "should be a number; yours is '0.5' (str)" in not_a_number("0.5", "x").message
