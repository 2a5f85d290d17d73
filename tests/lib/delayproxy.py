"""build/bench/delay_proxy (bench/delay_proxy.c) for tests: a TCP proxy that holds every chunk of
bytes a fixed time in each direction, e.g. to put PostgreSQL a slow round trip away."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TCA_BUILD") or os.path.join(ROOT, "build")
PROXY = os.path.join(BUILD, "bench", "delay_proxy")


def build():
    """Builds the proxy if needed; returns None, or why it could not be built."""
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "BUILD=" + BUILD,
                        PROXY], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.access(PROXY, os.X_OK):
        return "cannot build %s: %s%s" % (PROXY, r.stdout, r.stderr)
    return None


class DelayProxy:
    """The proxy in front of host:port, holding each chunk delay_us each way; a context manager.
    host and port are where to connect to reach upstream through it; after stop(), stats is
    what it printed when it ended (connections, bytes, timer lateness)."""

    def __init__(self, host, port, delay_us, path=PROXY):
        self.delay_us = delay_us
        self.stats = ""
        self.proc = subprocess.Popen([path, "--upstream", "%s:%d" % (host, port),
                                      "--delay-us", str(delay_us)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # "listening on 127.0.0.1:PORT" once it accepts
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError("delay_proxy did not start: %r %s" % (line, self.proc.stderr.read()))
        self.host, port = line.split()[-1].rsplit(":", 1)
        self.port = int(port)

    def stop(self):
        """SIGTERM (once); keeps its closing counters in stats."""
        if self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stats = self.proc.stderr.read().strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
