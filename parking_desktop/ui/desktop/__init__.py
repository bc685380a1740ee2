"""The manager desktop: sign-in, main window with a navigation sidebar, and its screens."""
