# The orphan burst of reap.js: N zombies orphaned to the reaper under test.
#   python3 orphan-burst.py N GO_FIFO
# This process (the reaper's child, which stays alive) waits until someone opens GO_FIFO
# for writing, then forks an intermediate that forks N children, which exit at once, and
# exits itself: the N are re-parented to the nearest subreaper (pidpilot or `tini -s`),
# as zombies or about to be. Then it sleeps until killed.
import os
import sys
import time

n = int(sys.argv[1])
with open(sys.argv[2], "rb") as go:  # blocks until the bench opens it for writing
    pass
pid = os.fork()
if pid == 0:
    for _ in range(n):
        if os.fork() == 0:
            os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
while True:
    time.sleep(3600)
