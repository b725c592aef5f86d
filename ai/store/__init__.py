"""The learner's memory on disk: crash-safe, checksummed generations in one folder per level.

Rules: imports ``ai`` only, never ``game``. ``ai.store.store`` is the entry point; the other
modules are its layout, codec, reader, writer, loader and one-writer lock.
"""
