"""Housekeeping of the local install: `doctor` (what this machine has, and repair of a damaged
log) and `forget` (deleting interactions everywhere they left a trace). SQL in db/admin.py."""
