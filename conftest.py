# The suite's checks on every notebook nbmake runs (no library warnings in a clean run).
pytest_plugins = ("tests.nbmake_checks",)
