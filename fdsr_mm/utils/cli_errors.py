"""One error convention for every fdsr_mm tool: ``<prog>: error: <what> (<where>): <fix>``, exit 2.

A fault the user can fix (a bad path, a refused checkpoint, a wrong option) is reported as one
line on stderr and exit code 2, never as a traceback; Ctrl-C is one line and exit code 130.
Library code raises :class:`ToolError` (or one of the known fault types below); a tool's
``main`` is wrapped with :func:`run_tool`::

    def main(argv=None) -> int: ...
    if __name__ == '__main__':
        sys.exit(run_tool('sr_detect', main))
"""
import pickle
import sys
from typing import Callable, Iterable, Optional

EXIT_FAULT = 2
EXIT_INTERRUPTED = 130


class ToolError(Exception):
    """A fault the user can fix: ``what`` happened at ``where`` (a file or option), ``fix``."""

    def __init__(self, what: str, where: Optional[str] = None, fix: Optional[str] = None):
        self.what, self.where, self.fix = what, where, fix
        super().__init__(format_error(what, where, fix))


def format_error(what: str, where: Optional[str] = None, fix: Optional[str] = None) -> str:
    """``<what> (<where>): <fix>`` with the missing parts left out, on one line."""
    text = str(what).strip().rstrip('.')
    if where:
        text += f' ({where})'
    if fix:
        text += f': {str(fix).strip()}'
    return ' '.join(text.split('\n'))


def known_faults() -> tuple:
    """The exception types every tool reports as one ``error:`` line (exit 2).

    Besides :class:`ToolError`: a missing file, a bad value (a non-finite checkpoint or loss,
    :class:`~fdsr_mm.utils.checkpoints.NonFiniteError`, is one), a refused or corrupt pickle
    (:class:`~fdsr_mm.utils.checkpoints.UnsafeCheckpointError` is one); a tool adds its own, e.g.
    ``ResumeError``, through ``extra_faults``.
    """
    return (ToolError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
            ValueError, pickle.UnpicklingError)


def error_line(prog: str, err: BaseException) -> str:
    """The one line printed for ``err``: ``<prog>: error: <message>``."""
    message = ' '.join(str(err).strip().split())
    if isinstance(err, OSError) and err.filename and (message.startswith('[Errno')
                                                      or str(err.filename) not in message):
        message = format_error((err.strerror or 'no such file').lower(), str(err.filename))
    return f'{prog}: error: {message}'


def run_tool(prog: str, main: Callable[[], Optional[int]],
             extra_faults: Iterable[type] = ()) -> int:
    """Run ``main()``; a known fault is one ``error:`` line and exit 2, Ctrl-C one line, 130."""
    faults = known_faults() + tuple(extra_faults)
    try:
        code = main()
    except KeyboardInterrupt:
        print(f'\n{prog}: interrupted (Ctrl-C); finished outputs are kept, a rerun continues.',
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except faults as err:  # noqa: B030 - a tuple of exception types
        print(error_line(prog, err), file=sys.stderr)
        return EXIT_FAULT
    return 0 if code is None else int(code)
