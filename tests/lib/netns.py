"""netns.py — a throwaway network namespace joined to the host by a veth pair, for tests that
need a network they can break silently (iptables -j DROP), not just loopback.

    with NetNs() as ns:                 # needs root; removed again on exit, even on failure
        ns.run(["ip", "addr"])          # a command inside the namespace
        ns.prefix                       # ["ip", "netns", "exec", NAME]: prefix for Popen
        ns.inner, ns.outer              # the namespace's and the host's address (a /30)
        ns.drop(5432); ns.undrop(5432)  # silently drop / accept TCP to that port in the namespace

Names and the 10.x.y.z/30 subnet are random, so tests running at once do not collide. Nothing
is routed beyond the pair: the namespace only ever talks to this host.
"""
import os
import random
import subprocess


class NetNs:
    def __init__(self):
        tag = os.urandom(3).hex()
        self.name = "tca-" + tag
        self.host_if, self.ns_if = "tcah" + tag, "tcan" + tag
        a, b, c = random.randint(200, 250), random.randint(0, 255), random.randrange(0, 256, 4)
        self.outer, self.inner = "10.%d.%d.%d" % (a, b, c + 1), "10.%d.%d.%d" % (a, b, c + 2)
        self.prefix = ["ip", "netns", "exec", self.name]
        self.created = False

    def __enter__(self):
        try:
            self._ip("netns", "add", self.name)
            self.created = True
            self._ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            self._ip("link", "set", self.ns_if, "netns", self.name)
            self._ip("addr", "add", self.outer + "/30", "dev", self.host_if)
            self._ip("link", "set", self.host_if, "up")
            self.run(["ip", "addr", "add", self.inner + "/30", "dev", self.ns_if])
            self.run(["ip", "link", "set", self.ns_if, "up"])
            self.run(["ip", "link", "set", "lo", "up"])
        except Exception:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.created = False

    def run(self, argv, check=True):
        r = subprocess.run(self.prefix + list(argv), capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(argv), r.stderr.strip()))
        return r

    def drop(self, port):
        """Packets to and from TCP port in the namespace vanish: no RST, no ICMP."""
        self.run(["iptables", "-I", "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP"])
        self.run(["iptables", "-I", "OUTPUT", "-p", "tcp", "--sport", str(port), "-j", "DROP"])

    def undrop(self, port):
        self.run(["iptables", "-D", "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP"])
        self.run(["iptables", "-D", "OUTPUT", "-p", "tcp", "--sport", str(port), "-j", "DROP"])

    def _ip(self, *args):
        r = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("ip %s failed: %s" % (" ".join(args), r.stderr.strip()))
