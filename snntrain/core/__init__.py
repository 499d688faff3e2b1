"""What the rest of snntrain relies on: the errors, the range checks, the registry and its catalog, the
protocols between rooms and the run-metrics record. Imports nothing above it."""
