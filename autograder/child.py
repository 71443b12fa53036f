"""The runner inside the sandbox: runs a submission's cells, answers calls over a pipe.

It imports nothing from the kit (the kit is not visible here), only the standard
library, numpy, IPython and `wire`, which is bind-mounted beside it. It is started as

    python -S child.py READ_FD WRITE_FD SEED OUTPUT_CHARS SITE_DIR...

reads one request frame at a time from READ_FD and writes one reply to WRITE_FD.
Everything the channel needs is imported and bound before the first cell runs.
"""

import io
import math
import os
import random
import resource
import signal
import site
import sys
import time


class CPUTimeExceeded(BaseException):
    """Raised inside student code when its cell or call used up its CPU budget."""


class CappedText(io.TextIOBase):
    """A text stream that keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap):
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        part = text[: max(self.cap - self.kept, 0)]
        if part:
            self.parts.append(part)
            self.kept += len(part)
        self.dropped += len(text) - len(part)
        return len(text)

    def getvalue(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[{self.dropped:,} more characters of output not shown]"
        return text


class Runner:
    """Holds the shell and the references the channel needs, taken before any cell."""

    def __init__(self, read_fd, write_fd, output_chars, wire, shell):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.output_chars = output_chars
        self.wire, self.shell = wire, shell
        self.read_frame, self.write_frame = wire.read_frame, wire.write_frame
        self.pack, self.encode, self.decode = wire.pack, wire.encode, wire.decode
        self.sys = sys
        self.getrlimit, self.setrlimit = resource.getrlimit, resource.setrlimit
        self.process_time = time.process_time
        self.budget = None
        self.helpers = {}
        self.compile, self.exec = compile, exec
        self.getpid, self.exit, self.pid = os.getpid, os._exit, os.getpid()
        signal.signal(signal.SIGXCPU, self.on_sigxcpu)

    def on_sigxcpu(self, signum, frame):
        # Outside student code the runner finishes its reply first.
        if self.budget is not None:
            raise CPUTimeExceeded(f"used more than {self.budget:g} s of CPU time")

    def limit_cpu(self, budget):
        _, hard = self.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(self.process_time() + budget)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        self.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        self.budget = budget

    def unlimit_cpu(self):
        self.budget = None
        _, hard = self.getrlimit(resource.RLIMIT_CPU)
        self.setrlimit(resource.RLIMIT_CPU, (hard, hard))

    def captured(self, action):
        """Run `action()` with sys.stdout/stderr captured; (result, error, text)."""
        out = CappedText(self.output_chars)
        saved = self.sys.stdout, self.sys.stderr
        self.sys.stdout = self.sys.stderr = out
        result = error = None
        try:
            result = action()
        except BaseException as raised:
            error = raised
        finally:
            if self.getpid() != self.pid:
                # A fork of the runner made by student code must never answer.
                self.exit(0)
            self.unlimit_cpu()
            self.sys.stdout, self.sys.stderr = saved
        return result, error, out.getvalue()

    def run_cell(self, source, budget):
        def action():
            self.limit_cpu(budget)
            return self.shell.run_cell(source, store_history=True)

        result, error, text = self.captured(action)
        if error is None and result is not None:
            error = result.error_before_exec or result.error_in_exec
        status = "ok" if error is None else "error"
        if isinstance(error, CPUTimeExceeded):
            status = "timeout"
        name, message = describe(error)
        return {
            "status": status,
            "error_name": name,
            "error_message": message,
            "stdout": text,
        }, []

    def define(self, source):
        """Run the grader's helper definitions on a copy of the notebook's globals.

        Not through IPython: no input transformer or cell hook the notebook set up
        sees or rewrites them, and rebinding the names later does not replace them.
        """
        before = dict(self.shell.user_ns)
        namespace = dict(before)
        try:
            self.exec(self.compile(source, "<grader>", "exec"), namespace)
        except BaseException as error:
            return failure(*describe(error))
        for name, value in namespace.items():
            if name not in before or before[name] is not value:
                self.helpers[name] = value
        return {"kind": "value", "value": ["n"]}, []

    def call(self, name, args, budget):
        function = self.helpers.get(name) or self.shell.user_ns.get(name, self)
        if function is self:
            return failure("NameError", f"name {name!r} is not defined")
        if not callable(function):
            kind = type(function).__name__
            return failure("TypeError", f"{name!r} is a {kind}, not a function")

        def action():
            self.limit_cpu(budget)
            return function(*args)

        value, error, _ = self.captured(action)
        if isinstance(error, CPUTimeExceeded):
            return {"kind": "timeout", "error_message": describe(error)[1]}, []
        if error is not None:
            return failure(*describe(error))
        return self.value_reply(value)

    def get(self, name):
        value = self.shell.user_ns.get(name, self)
        if value is self:
            return failure("NameError", f"name {name!r} is not defined")
        return self.value_reply(value)

    def value_reply(self, value):
        tree, buffers = self.encode(value)
        return {"kind": "value", "value": tree}, buffers

    def handle(self, header, buffers):
        op = header["op"]
        if op == "cell":
            return self.run_cell(header["source"], header["budget"])
        if op == "call":
            args = self.decode(header["args"], buffers)
            return self.call(header["name"], args, header["budget"])
        if op == "get":
            return self.get(header["name"])
        if op == "define":
            return self.define(header["source"])
        raise ValueError(f"unknown request {op!r}")

    def serve(self):
        self.write_frame(self.write_fd, self.pack({"kind": "ready"}))
        while True:
            try:
                header, buffers = self.read_frame(self.read_fd)
            except EOFError:
                return
            reply, reply_buffers = self.handle(header, buffers)
            self.write_frame(self.write_fd, self.pack(reply, reply_buffers))


def failure(name, message):
    return {"kind": "error", "error_name": name, "error_message": message[:500]}, []


def describe(error):
    """(type name, message capped at 500 chars) of an exception, or (None, None)."""
    if error is None:
        return None, None
    try:
        message = str(error)
    except BaseException:
        message = "(the exception's message could not be shown)"
    return type(error).__name__[:200], message[:500]


def make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    return InteractiveShell.instance(config=config)


def main(argv):
    read_fd, write_fd, seed, output_chars = (int(arg) for arg in argv[1:5])
    for directory in argv[5:]:
        site.addsitedir(directory)
    os.set_inheritable(read_fd, False)
    os.set_inheritable(write_fd, False)

    import numpy
    import wire

    # The runner's own directory is not the student's business; their cwd is.
    sys.path[0] = ""
    shell = make_shell()
    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    Runner(read_fd, write_fd, output_chars, wire, shell).serve()


if __name__ == "__main__":
    main(sys.argv)
