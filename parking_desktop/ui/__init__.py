"""PySide6 front ends. The only package that imports Qt."""
