"""Toolsmith's command line (`python -m toolsmith …`): schema test suites in CI."""
