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

import gradlens_run  # noqa: E402  (after the version check, on purpose)

gradlens_run.main(sys.argv[1])
