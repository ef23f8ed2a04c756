"""The test suite; its layout mirrors the packages (tests/care, tests/storage, ...)."""
