# style_transfer: filled in by its program's change.
