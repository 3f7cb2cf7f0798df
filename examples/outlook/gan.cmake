# gan: filled in by its program's change.
