"""The thin I/O shell: load, apply the pure rules, write in one transaction, then publish."""
