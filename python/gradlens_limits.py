"""The time and memory limits, as the user's code feels them."""


class TimeLimitReached(BaseException):
    """Raised in the user's code by the timer; a BaseException so `except Exception` cannot swallow it."""


def on_time_limit(signum, frame):
    raise TimeLimitReached()


def limit_memory(megabytes):
    """Caps the address space at what the interpreter uses now plus `megabytes` (Linux; a no-op
    where the resource module or RLIMIT_AS is missing)."""
    try:
        import resource
    except ImportError:
        return
    current = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    current = int(line.split()[1]) * 1024
    except OSError:
        pass
    limit = current + megabytes * 1024 * 1024
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError, AttributeError):
        pass


def seconds_text(ms):
    seconds = ms / 1000
    return ("%d" % seconds) if seconds == int(seconds) else ("%.1f" % seconds)
