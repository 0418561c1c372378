#!/usr/bin/python3
# ready.py PATTERN CMD...: start CMD on a pseudo-terminal (so its stdout and
# stderr are line-buffered, as in an interactive run), time from just before
# the exec to the first output line matching PATTERN (a regex), then read the
# process's peak RSS (VmHWM) and stop it with SIGINT (SIGKILL after 5 s).
# Prints "MS KB", or "nan nan" when PATTERN did not show up within 30 s.
import os, pty, re, select, signal, subprocess, sys, time

pat = re.compile(sys.argv[1].encode())
master, slave = pty.openpty()
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                     start_new_session=True)
os.close(slave)

# Killed ourselves (the bench's time limit, a closed pipe): take the tool
# along, it runs in its own session and would outlive us.
def _die(sig, frame):
    try:
        p.kill()
    except OSError:
        pass
    os._exit(1)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(_s, _die)
buf, ready = b"", None
while ready is None and time.monotonic() - t0 < 30:
    r, _, _ = select.select([master], [], [], 0.5)
    if not r:
        if p.poll() is not None:
            break
        continue
    try:
        d = os.read(master, 65536)
    except OSError:
        break
    if not d:
        break
    buf += d
    for line in buf.split(b"\n")[:-1] if b"\n" in buf else []:
        if pat.search(line):
            ready = time.monotonic() - t0
            break
    buf = buf[buf.rfind(b"\n") + 1:] if ready is None and b"\n" in buf else buf
hwm = "nan"
if ready is not None:
    time.sleep(0.2)	# the first events after start-up count to the peak too
    try:
        for l in open("/proc/%d/status" % p.pid):
            if l.startswith("VmHWM:"):
                hwm = l.split()[1]
    except OSError:
        pass
p.send_signal(signal.SIGINT)
end = time.monotonic() + 5
# Drain its output (a full terminal buffer would block it) without blocking
# ourselves; a tool that ignores SIGINT gets SIGTERM after 2 s, SIGKILL at 5.
termed = False
while p.poll() is None and time.monotonic() < end:
    if not termed and time.monotonic() > end - 3:
        p.send_signal(signal.SIGTERM)
        termed = True
    try:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            os.read(master, 65536)
    except OSError:
        time.sleep(0.05)
if p.poll() is None:
    p.kill()
    p.wait()
print("%s %s" % ("%.1f" % (ready * 1000) if ready is not None else "nan", hwm))
