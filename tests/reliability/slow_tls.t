#!/usr/bin/env python3
"""slow.t again, with the server speaking HTTPS (a self-signed certificate, TlsSelfSigned):
every raw-socket case and every request goes through TLS (tests/lib/tca.py, TCA_TLS)."""
import os
import runpy

os.environ["TCA_TLS"] = "1"
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow.t"),
               run_name="__main__")
