"""The entrance board (``main.py board --lot NAME``): free spaces per lot on a full screen."""
