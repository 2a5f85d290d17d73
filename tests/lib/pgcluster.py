"""pgcluster.py — a throwaway PostgreSQL 15 cluster for Python tests (stdlib only); the same
cluster as tests/lib/pg.sh.

    with PgCluster() as pg:                     # initdb + start on a free 127.0.0.1 port
        with App(env=pg.app_env()) as app:      # VTT_DBTYPE=postgres, host, port, password...
            ...
            pg.crash()                          # pg_ctl stop -m immediate
            pg.resume()                         # start again, same data and port
        pg.psql("SELECT count(*) FROM tasks")   # -> "3" (psql -At output, stripped)

Authentication is real: trust on the cluster's unix socket (for psql here), scram-sha-256 with a
random password on 127.0.0.1 (for the app). As root the cluster belongs to the `postgres` user,
since initdb refuses to run as root. fsync is off: a test crash kills processes, not the machine.
A failure to start raises RuntimeError with the end of the server log.
"""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
START_TIMEOUT = 30


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, dbname="tca_test"):
        self.dbname = dbname
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.password = "pw-" + secrets.token_hex(8)
        self.port = None
        self.dir = None
        self.runas = None

    # --- lifecycle ---

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def start(self):
        if not os.access(os.path.join(PG_BIN, "initdb"), os.X_OK):
            raise RuntimeError("no %s/initdb: install postgresql-15 (deps/apt-pg.txt)" % PG_BIN)
        self.dir = tempfile.mkdtemp(prefix="tca-pg.")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        if os.geteuid() == 0:
            self.runas = "postgres"
            try:
                pw = pwd.getpwnam(self.runas)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                                "/usr/sbin/nologin", self.runas], check=True)
                pw = pwd.getpwnam(self.runas)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if self.runas:
            os.chown(pwfile, pwd.getpwnam(self.runas).pw_uid, -1)
        try:
            r = self._as_owner([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", self.user,
                                "--locale=C.UTF-8", "--no-sync", "--auth-local=trust",
                                "--auth-host=scram-sha-256", "--pwfile=" + pwfile])
            if r.returncode != 0:
                raise RuntimeError("initdb failed:\n" + r.stdout + r.stderr)
        finally:
            os.unlink(pwfile)
        for _ in range(3):  # a free port can be taken before the server binds it
            self.port = _free_port()
            if self._ctl_start():
                break
        else:
            raise RuntimeError("PostgreSQL did not start:\n" + self.log_tail())
        self.psql("CREATE DATABASE %s" % self.dbname, dbname="postgres")
        return self

    def crash(self):
        """pg_ctl stop -m immediate: clients see the server die mid-flight."""
        self._ctl(["-m", "immediate", "-w", "stop"])

    def stop(self):
        self._ctl(["-m", "fast", "-w", "stop"])

    def resume(self):
        if not self._ctl_start():
            raise RuntimeError("PostgreSQL did not start again:\n" + self.log_tail())

    def cleanup(self):
        if not self.dir:
            return
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._ctl(["-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    # --- using it ---

    def psql(self, sql, dbname=None):
        """Runs sql as the superuser over the unix socket; returns psql -At output, stripped."""
        r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                            "-h", self.dir, "-p", str(self.port), "-U", self.user,
                            "-d", dbname or self.dbname, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, r.stderr.strip()))
        return r.stdout.strip()

    def app_env(self, **extra):
        """VTT_* variables pointing TechChallengeApp at this cluster."""
        env = {"VTT_DBTYPE": "postgres", "VTT_DBHOST": self.host, "VTT_DBPORT": str(self.port),
               "VTT_DBUSER": self.user, "VTT_DBPASSWORD": self.password,
               "VTT_DBNAME": self.dbname, "VTT_DBSSLMODE": "disable"}
        env.update(extra)
        return env

    def test_env(self):
        """The TCA_TEST_* variables of the C store tests."""
        return {"TCA_TEST_DBTYPE": "postgres", "TCA_TEST_DBHOST": self.host,
                "TCA_TEST_DBPORT": str(self.port), "TCA_TEST_DBUSER": self.user,
                "TCA_TEST_DBPASSWORD": self.password, "TCA_TEST_DBNAME": self.dbname}

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no server log)"

    # --- internals ---

    def _as_owner(self, argv, timeout=120):
        if self.runas:
            argv = ["runuser", "-u", self.runas, "--"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def _ctl(self, args, check=True):
        r = self._as_owner([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data] + args)
        if check and r.returncode != 0:
            raise RuntimeError("pg_ctl %s failed: %s\n%s" % (" ".join(args), r.stderr.strip(),
                                                             self.log_tail()))
        return r

    def _ctl_start(self):
        opts = ("-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
                % (self.dir, self.port))
        r = self._as_owner([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log_path,
                            "-w", "-t", str(START_TIMEOUT), "-o", opts, "start"],
                           timeout=START_TIMEOUT + 30)
        return r.returncode == 0
