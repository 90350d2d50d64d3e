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
