"""The lab's servers with nginx: shared by scripts/soak and scripts/bench-lab.

`Servers(prefix, kind, out)` manages the HTTP servers of a lab made by
scripts/lab (prefix `prefix`, servers s1..s3): kind "python" keeps the
lab's own server (scripts/lab-http-server, HTTP on 80 and UDP echo on
5353); kind "nginx" replaces its HTTP with Debian's nginx-light on port 80
(one worker, `return 200 "<name>\\n"`, keep-alive without limit) and keeps
the python server for UDP only (its HTTP moved to port 8000). Every
process is recorded by pid and ended by pid: the python server's pid goes
to the lab's `<run>/<name>.pid`, where `scripts/lab down` finds it;
nginx's master pid to `<out>/nginx-<name>.pid`.
"""

import os
import signal
import subprocess
import time

SERVER_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab-http-server")
NAMES = ("s1", "s2", "s3")


def in_ns(ns, cmd, timeout=60, **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd],
                          capture_output=True, text=True, timeout=timeout, **kw)


class Servers:
    """The servers' processes: the lab's python server (HTTP on 80, UDP
    echo on 5353), or with nginx: nginx on 80 (from Debian, one worker)
    and the python server kept for UDP only (its HTTP moved to port 8000).
    Every process is recorded by pid and ended by pid."""

    def __init__(self, prefix, kind, out):
        self.prefix = prefix
        self.run_dir = os.path.join("/tmp", prefix)
        self.kind = kind
        self.out = out

    def _python(self, name, http_port):
        logf = open(os.path.join(self.run_dir, f"{name}.log"), "a")
        child = subprocess.Popen(["ip", "netns", "exec", f"{self.prefix}-{name}", "python3",
                                  SERVER_PY, "--name", name, "--http-port", str(http_port)],
                                 stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        # The lab's `down` ends the process named in this file.
        with open(os.path.join(self.run_dir, f"{name}.pid"), "w") as f:
            f.write(str(child.pid))

    def _nginx_conf(self, name):
        conf = os.path.join(self.out, f"nginx-{name}.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.replace("NAME", name).replace("DIR", self.out))
        return conf

    def _nginx_pids(self, name):
        try:
            master = int(open(os.path.join(self.out, f"nginx-{name}.pid")).read().strip())
        except (OSError, ValueError):
            return []
        try:
            with open(f"/proc/{master}/task/{master}/children") as f:
                workers = [int(x) for x in f.read().split()]
        except OSError:
            return []
        return [master] + workers

    def start(self, name):
        if self.kind == "python":
            self._python(name, 80)
            return
        self._python(name, 8000)
        r = in_ns(f"{self.prefix}-{name}", ["nginx", "-c", self._nginx_conf(name)])
        if r.returncode != 0:
            raise RuntimeError(f"nginx in {name}: {r.stderr}")

    def kill(self, name):
        """SIGKILL: the server dies as a crashed one does."""
        pids = [int(open(os.path.join(self.run_dir, f"{name}.pid")).read().strip())]
        if self.kind == "nginx":
            pids += self._nginx_pids(name)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def setup(self):
        if self.kind == "nginx":
            for name in NAMES:
                pid = int(open(os.path.join(self.run_dir, f"{name}.pid")).read().strip())
                os.kill(pid, signal.SIGTERM)
                time.sleep(0.2)
                self.start(name)

    def stop(self):
        if self.kind == "nginx":
            for name in NAMES:
                for pid in self._nginx_pids(name)[:1]:
                    try:
                        os.kill(pid, signal.SIGTERM)  # the master ends its workers
                    except ProcessLookupError:
                        pass


NGINX_CONF = """# slb lab (scripts/lab_nginx.py): NAME's HTTP server
worker_processes 1;
pid DIR/nginx-NAME.pid;
error_log DIR/nginx-NAME.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 80 backlog=4096;
        listen [::]:80 backlog=4096;
        location / { return 200 "NAME\\n"; }
    }
}
"""
