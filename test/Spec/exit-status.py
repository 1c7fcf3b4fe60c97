"""exit-status.py N CMD...: runs CMD, passes its output through, and exits 0
exactly when CMD exited with status N (lit's `not` accepts any failure)."""
import subprocess
import sys

expected = int(sys.argv[1])
status = subprocess.call(sys.argv[2:])
if status != expected:
    print(f"exit-status.py: expected exit status {expected}, got {status}",
          file=sys.stderr)
    sys.exit(1)
