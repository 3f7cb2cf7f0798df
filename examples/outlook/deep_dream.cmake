# deep_dream: filled in by its program's change.
