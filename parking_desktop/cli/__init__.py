"""Command line: `python main.py [--db URL] [--data-dir DIR] [COMMAND]`."""
