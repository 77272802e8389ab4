# GradLens's Python tracer: runs the user's Python code and writes the autograd graph it built.
#
#     python gradlens_trace.py REQUEST.json
#
# This launcher only checks the Python version, in syntax even an old Python can read, so that a
# too-old interpreter gets a clear message instead of a SyntaxError in GradLens's own code.
import sys

if sys.version_info < (3, 8):
    sys.stderr.write("GRADLENS_PYTHON_TOO_OLD %d.%d.%d\n" % tuple(sys.version_info[:3]))
    sys.exit(3)

import os  # noqa: E402

# Our modules come first on the path, even under PYTHONSAFEPATH (which leaves the script's folder out).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))



def _bytecode_cache():
    """A folder of the user's own for the compiled tracer modules: the tracer runs with -B (nothing
    written next to the user's code or GradLens's files), which would otherwise compile its ~4,000
    lines again on every run. None when there is no such folder to be had."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not base or not os.path.isabs(base):
        return None
    folder = os.path.join(base, "gradlens", "pycache")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        return folder if os.access(folder, os.W_OK) else None
    except OSError:
        return None


# Only GradLens's own imports use the cache: the user's code runs with -B's settings restored.
_cache = _bytecode_cache()
_saved = sys.pycache_prefix, sys.dont_write_bytecode
if _cache is not None:
    sys.pycache_prefix, sys.dont_write_bytecode = _cache, False
try:
    import gradlens_run  # noqa: E402  (after the version check, on purpose)
finally:
    sys.pycache_prefix, sys.dont_write_bytecode = _saved

gradlens_run.main(sys.argv[1], _cache)
