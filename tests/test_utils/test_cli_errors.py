"""The one error convention of the tools: ``<prog>: error: <what> (<where>): <fix>``, exit 2."""
from fdsr_mm.utils import ToolError, format_error, run_tool
from fdsr_mm.utils.cli_errors import EXIT_FAULT, EXIT_INTERRUPTED


def test_format_error_joins_what_where_fix_on_one_line():
    assert format_error('no such file.', 'a/b.pth', 'pass --weights') == \
        'no such file (a/b.pth): pass --weights'
    assert format_error('bad\nvalue') == 'bad value'
    assert str(ToolError('scale disagrees', '--scale', 'use 4')) == 'scale disagrees (--scale): use 4'


def test_run_tool_prints_one_line_and_exits_2_on_a_known_fault(capsys):
    def main():
        raise ToolError('output overlaps the input', 'out/', 'choose another folder')

    assert run_tool('prog', main) == EXIT_FAULT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['prog: error: output overlaps the input (out/): choose another folder']


def test_run_tool_names_the_missing_file(capsys):
    def main():
        open('/nonexistent/dir/file.json')

    assert run_tool('prog', main) == EXIT_FAULT
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and '/nonexistent/dir/file.json' in err and 'Traceback' not in err


def test_run_tool_ctrl_c_is_one_line_and_130(capsys):
    def main():
        raise KeyboardInterrupt

    assert run_tool('prog', main) == EXIT_INTERRUPTED
    assert 'interrupted' in capsys.readouterr().err


def test_run_tool_passes_exit_codes_and_lets_bugs_through():
    assert run_tool('prog', lambda: None) == 0
    assert run_tool('prog', lambda: 3) == 3

    def buggy():
        raise ZeroDivisionError

    try:
        run_tool('prog', buggy)
    except ZeroDivisionError:
        pass
    else:
        raise AssertionError('a programming error must keep its traceback')
