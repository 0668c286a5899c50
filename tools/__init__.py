"""Developer tools run from the repository root: the demo (python -m tools.demo) and what it shares with the tests."""
