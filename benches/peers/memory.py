"""Peak resident memory and time of a step, measured the way `peer_bench` measures them (Linux).

`reset_peak()` clears the kernel's high-water mark (`echo 5 > /proc/self/clear_refs`), so the
`VmHWM` read after a step is the peak of that step alone (plus what was resident before it).
"""


import time


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    """Starts a new peak-RSS window; returns the resident size now, in MiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status_kib("VmRSS") / 1024.0


def peak_mib():
    """Peak resident size since the last `reset_peak()`, in MiB."""
    return _status_kib("VmHWM") / 1024.0


def measured(label, step):
    """Runs `step()` in a fresh peak-RSS window and prints one line about it; returns
    `(result, seconds, RSS before in MiB, peak RSS in MiB)`."""
    before = reset_peak()
    t = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - t
    peak = peak_mib()
    print(f"{label}: {seconds:.2f}s, peak RSS {peak:.0f} MiB ({before:.0f} before)", flush=True)
    return result, seconds, before, peak
