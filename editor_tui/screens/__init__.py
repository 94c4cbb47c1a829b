"""The editor's screens: the main editor and its dialogs."""
