# class_pictures: filled in by its program's change.
